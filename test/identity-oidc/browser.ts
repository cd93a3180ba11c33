import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's chromium, headless, trusting nothing but ignoring the test servers' self-signed CAs. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
}

/**
 * What a person does after `gatehouse login` printed its URL: open it, click the provider's button on
 * Gatehouse's page, sign in on the provider's login page (oidc-provider's), approve on its consent
 * page, and land on the CLI's loopback page. Returns the text of the page the browser ends on.
 */
export async function signInThroughProvider(
  browser: Browser,
  authorizeUrl: string,
  button: string,
  login: string,
): Promise<{ text: string; url: string; page: Page }> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  await page.goto(authorizeUrl);
  await page.getByRole("link", { name: button }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForLoadState("load");
  return { text: (await page.textContent("body")) ?? "", url: page.url(), page };
}
