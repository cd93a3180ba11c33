import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
/**
 * A plain-HTTP stand-in for a browser at the SAML IdP: a cookie jar, redirects followed by hand, and
 * HTML forms read and submitted as a browser would (SimpleSAMLphp's login form, then its auto-POST
 * form that carries the SAMLResponse to Gatehouse's Assertion Consumer Service).
 */
export interface HtmlForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, "&");
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i").exec(tag);
  return m ? decodeEntities(m[2] ?? m[3] ?? "") : undefined;
}

/** Every form of a page, with the values of its inputs, its action resolved against `base`. */
export function formsOf(html: string, base: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = m[1] ?? "";
    const body = m[2] ?? "";
    const fields: Record<string, string> = {};
    for (const i of body.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(i[0], "name");
      if (name !== undefined) fields[name] = attr(i[0], "value") ?? "";
    }
    forms.push({
      action: new URL(attr(open, "action") ?? "", base).toString(),
      method: (attr(open, "method") ?? "get").toLowerCase(),
      fields,
    });
  }
  return forms;
}

/** One HTTP answer, read whole. */
export interface Page {
  status: number;
  location: string | undefined;
  setCookies: string[];
  body: string;
}

export class Browser {
  private readonly cookies = new Map<string, Map<string, string>>();
  /** Every URL visited, in order (for assertions about where the flow went). */
  readonly visited: string[] = [];

  /** `ca`: PEM the browser trusts for https (Gatehouse's self-signed CA in tests). */
  constructor(private readonly ca?: string) {}

  private cookieHeader(url: URL): string | undefined {
    const jar = this.cookies.get(url.host);
    return jar && jar.size > 0 ? [...jar].map(([k, v]) => `${k}=${v}`).join("; ") : undefined;
  }

  private remember(url: URL, setCookies: string[]): void {
    for (const c of setCookies) {
      const [pair] = c.split(";");
      const eq = (pair ?? "").indexOf("=");
      if (eq <= 0) continue;
      const jar = this.cookies.get(url.host) ?? new Map<string, string>();
      const name = (pair ?? "").slice(0, eq).trim();
      const value = (pair ?? "").slice(eq + 1).trim();
      if (/max-age=0|expires=Thu, 01[- ]Jan[- ]1970/i.test(c) || value === "deleted") jar.delete(name);
      else jar.set(name, value);
      this.cookies.set(url.host, jar);
    }
  }

  /** One request without following redirects. */
  request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const u = new URL(url);
    this.visited.push(url);
    const headers: Record<string, string> = {};
    const cookie = this.cookieHeader(u);
    if (cookie) headers["cookie"] = cookie;
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const send = u.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<Page>((resolve, reject) => {
      const req = send(
        u,
        {
          method: init.method ?? (init.form ? "POST" : "GET"),
          headers,
          agent: false,
          ...(u.protocol === "https:" && this.ca ? { ca: this.ca, servername: "localhost" } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const setCookies = res.headers["set-cookie"] ?? [];
            this.remember(u, setCookies);
            resolve({
              status: res.statusCode ?? 0,
              location: res.headers.location,
              setCookies,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Follow redirects (they become GETs) until a page, or a redirect that `stop` says to keep. */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stop: (location: string) => boolean = () => false,
  ): Promise<{ url: string; page: Page; html: string }> {
    let current = url;
    let page = await this.request(current, init);
    for (let hops = 0; page.status >= 300 && page.status < 400 && page.location; hops++) {
      if (hops > 20) throw new Error(`too many redirects from ${url}`);
      const next = new URL(page.location, current).toString();
      if (stop(next)) return { url: next, page, html: "" };
      current = next;
      page = await this.request(current);
    }
    return { url: current, page, html: page.body };
  }
}

/** What the IdP's auto-POST page sends to the ACS. */
export interface SamlPost {
  acs: string;
  SAMLResponse: string;
  RelayState: string | undefined;
}

/**
 * Sign in at SimpleSAMLphp from the IdP URL Gatehouse redirected to: the login form (username,
 * password) and then the page that auto-POSTs the SAMLResponse. Returns that POST's contents,
 * unsent, so tests can send it themselves (or change it first).
 */
export async function signInAtIdp(
  browser: Browser,
  idpURL: string,
  username: string,
  password: string,
): Promise<SamlPost> {
  let page = await browser.follow(idpURL);
  for (let step = 0; step < 3; step++) {
    const forms = formsOf(page.html, page.url);
    const auto = forms.find((f) => f.fields["SAMLResponse"] !== undefined);
    if (auto)
      return {
        acs: auto.action,
        SAMLResponse: auto.fields["SAMLResponse"] ?? "",
        RelayState: auto.fields["RelayState"],
      };
    const login = forms.find((f) => "password" in f.fields);
    if (!login)
      throw new Error(
        `no login or SAMLResponse form at ${page.url} (HTTP ${page.page.status}): ${page.html.slice(0, 800)}`,
      );
    page = await browser.follow(login.action, {
      form: { ...login.fields, username, password },
    });
  }
  throw new Error(`the IdP did not answer with a SAMLResponse: ${page.html.slice(0, 800)}`);
}
