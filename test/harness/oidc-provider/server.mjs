// An upstream OpenID provider for Gatehouse's tests: the certified npm `oidc-provider`, run as its own
// process over HTTPS. Usage: node server.mjs CONFIG.json. Prints "listening URL" when ready.
// CONFIG: {issuer, port, certFile, keyFile, jwksFile, usersFile, clients}. Users are read from
// usersFile on every lookup, so a test can remove someone upstream while the provider runs.
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const users = () => JSON.parse(readFileSync(config.usersFile, "utf8"));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: JSON.parse(readFileSync(config.jwksFile, "utf8")),
  cookies: { keys: ["gatehouse-test-cookie-key"] },
  pkce: { required: () => true },
  scopes: ["openid", "offline_access", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  // false (the default here): scope claims (email, groups) go into the ID token too; true: only to
  // the userinfo endpoint, as many providers do (to test userinfo groups).
  conformIdTokenClaims: config.conformIdTokenClaims === true,
  features: { devInteractions: { enabled: true } },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  async findAccount(_ctx, id) {
    const u = users()[id];
    if (!u) return undefined;
    return {
      accountId: id,
      claims: async () => ({
        sub: id,
        email: u.email,
        email_verified: u.emailVerified ?? true,
        preferred_username: u.username ?? id,
        name: u.name ?? id,
        groups: u.groups ?? [],
      }),
    };
  },
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

const server = createServer(
  { cert: readFileSync(config.certFile), key: readFileSync(config.keyFile) },
  provider.callback(),
);
server.listen(config.port, "127.0.0.1", () => console.log(`listening ${config.issuer}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
