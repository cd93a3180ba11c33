import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeCache, type CachedLogin } from "./cache.js";
import { callJson, statusMessage, type Endpoint } from "./http.js";
import { LoginError, tokensFrom } from "./session.js";

const CLIENT_ID = "gatehouse-cli";
const WAIT_MS = 5 * 60_000;

/**
 * Browser sign-in with authorization code + PKCE and a loopback redirect (RFC 8252), as kubelogin
 * does: listen on 127.0.0.1 on a free port, send the person to Gatehouse's /authorize, take the code
 * from the redirect (checking `state`), redeem it with the verifier. The verifier never leaves this
 * process until the redemption, so an intercepted code is useless.
 */
export async function browserLogin(
  ep: Endpoint,
  dir: string,
  show: (url: string) => void,
): Promise<CachedLogin> {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(24).toString("base64url");
  let finish: (r: { code: string } | { error: string }) => void = () => undefined;
  const result = new Promise<{ code: string } | { error: string }>((resolve) => (finish = resolve));
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    if (u.pathname !== "/callback") {
      res.statusCode = 404;
      res.end();
      return;
    }
    const ok = u.searchParams.get("state") === state && u.searchParams.get("code");
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    res.end(
      ok
        ? "<!doctype html><p>Signed in. You can close this window and return to the terminal.</p>"
        : "<!doctype html><p>Sign-in failed. Return to the terminal.</p>",
    );
    finish(
      ok
        ? { code: u.searchParams.get("code") as string }
        : { error: u.searchParams.get("error") ?? "the answer did not match this sign-in (state)" },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const url = new URL("/authorize", ep.server);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
  }))
    url.searchParams.set(k, v);
  let timer: NodeJS.Timeout | undefined;
  try {
    show(url.toString());
    const r = await Promise.race([
      result,
      new Promise<{ error: string }>((resolve) => {
        timer = setTimeout(() => resolve({ error: "no answer from the browser within 5 minutes" }), WAIT_MS);
      }),
    ]);
    if ("error" in r) throw new LoginError(`browser sign-in failed: ${r.error}`, 2);
    const t = await callJson(ep, "POST", "/apis/gatehouse.io/v1alpha1/token", {
      body: {
        grant_type: "authorization_code",
        client_id: CLIENT_ID,
        code: r.code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
      },
    });
    if (t.status !== 201)
      throw new LoginError(`browser sign-in refused: ${String(t.body["error"] ?? statusMessage(t))}`, 2);
    const user = t.body["user"];
    if (typeof user !== "string") throw new LoginError(`unexpected answer from ${ep.server}: no user`, 3);
    const entry = tokensFrom(t, ep, user);
    writeCache(dir, entry);
    return entry;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
