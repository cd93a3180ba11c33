import { createServer, type Server } from "node:https";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, type SignJWT } from "jose";
import { ensureSelfSigned } from "../../src/server/tls.js";

/**
 * The attacker's side of the ID-token attack tests: an HTTPS endpoint with a discovery document, a
 * JWKS and a token endpoint that answers whatever ID token the test crafted (with jose). It is not a
 * stand-in for an identity provider (the real one is oidc-provider, in oidc.e2e.test.ts): it is the
 * hostile or broken upstream whose tokens Gatehouse must refuse.
 */
export interface AttackerIssuer {
  url: string;
  caData: string;
  /** The RSA key whose public half the JWKS publishes (kid "good"). */
  privateKey: Parameters<SignJWT["sign"]>[0];
  publicPem: string;
  publicJwk: JWK;
  /** The ID token the next token request gets. */
  nextIdToken: string;
  /** Form bodies of the token requests received. */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startAttackerIssuer(): Promise<AttackerIssuer> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-attacker-"));
  const tls = await ensureSelfSigned(dir, "127.0.0.1", new Date());
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "good", alg: "RS256", use: "sig" };
  const { createPublicKey } = await import("node:crypto");
  const publicPem = createPublicKey({ key: publicJwk as never, format: "jwk" })
    .export({ type: "spki", format: "pem" })
    .toString();
  const state: AttackerIssuer = {
    url: "",
    caData: Buffer.from(readFileSync(tls.caFile)).toString("base64"),
    privateKey,
    publicPem,
    publicJwk,
    nextIdToken: "",
    tokenRequests: [],
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const json = (o: unknown): void => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(o));
    };
    if (req.url === "/.well-known/openid-configuration")
      return json({
        issuer: state.url,
        authorization_endpoint: `${state.url}/auth`,
        token_endpoint: `${state.url}/token`,
        jwks_uri: `${state.url}/jwks`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
        id_token_signing_alg_values_supported: ["RS256"],
        subject_types_supported: ["public"],
      });
    if (req.url === "/jwks") return json({ keys: [publicJwk] });
    if (req.url === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        state.tokenRequests.push(new URLSearchParams(body));
        json({
          access_token: "attacker-access-token",
          token_type: "Bearer",
          expires_in: 300,
          id_token: state.nextIdToken,
        });
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  state.url = `https://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  return state;
}
