import { writeFileSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import pg from "pg";
import { pino, type Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTokenRenewer,
  renewalDueAt,
  startHealthChecks,
  unverifiedTokenTimes,
  type ClusterStatus,
  type TokenTimes,
} from "../../src/clusters/index.js";
import { loadKeyRing } from "../../src/secrets/index.js";
import { Store } from "../../src/store/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freshPostgresDatabase } from "../harness/databases.js";
import { freePort } from "../harness/ports.js";
import { kubectl } from "../e2e/kubectl.js";
import { eventually, startFixture, type GatehouseFixture } from "./fixture.js";

const NAME = "renew-a";
const PATH = `/apis/gatehouse.io/v1alpha1/clusters/${NAME}`;
const NS = "gatehouse-system";
const SA_USER = "system:serviceaccount:gatehouse-system:gatehouse-gateway";
const ADVICE = `re-run \`gatehouse cluster add ${NAME} --kubeconfig ADMIN_KUBECONFIG --replace\``;

/**
 * Tokens of 10 minutes (kube-apiserver's minimum) and an injected clock: renewal is due two thirds
 * in, at 400 s, which the tests reach by setting the clock of a second health checker (as another
 * replica would run it) instead of waiting. The fixture's own health loop runs on the real clock and
 * never finds a token due within the test's few minutes.
 */
describe(
  "renewal of the impersonator's token, against a real cluster and Gatehouse on PostgreSQL",
  { timeout: 180_000 },
  () => {
    let cluster: TestCluster;
    let gh: GatehouseFixture;
    let url = "";

    beforeAll(async () => {
      url = await freshPostgresDatabase();
      [cluster] = (await startClusters(1, { name: "kube-renew" })) as [TestCluster];
      gh = await startFixture({ database: url });
    });
    afterAll(async () => {
      await gh?.stop();
      await cluster?.stop();
    });

    const kc = (args: string[]) => kubectl(["--kubeconfig", cluster.kubeconfigPath, ...args]);
    const storedToken = async (): Promise<string> => (await gh.registry().get(NAME))?.token as string;
    const status = async (): Promise<ClusterStatus> =>
      (await gh.api("GET", PATH)).json()["status"] as ClusterStatus;
    const times = (token: string): TokenTimes => {
      const t = unverifiedTokenTimes(token);
      if (!t) throw new Error("the stored token is not a JWT with iat and exp");
      return t;
    };
    const keyRing = () => loadKeyRing(gh.config.encryptionKeys);
    /** Health checks with renewal as another replica runs them, with the clock stopped at `at`. */
    /** `cluster add NAME` with the harness admin kubeconfig and a 10-minute token; must succeed quietly. */
    const bootstrap = async (...extra: string[]) => {
      const r = await gh.cli([
        "cluster",
        "add",
        NAME,
        "--kubeconfig",
        cluster.kubeconfigPath,
        "--token-expiration",
        "10m",
        ...extra,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return r;
    };
    const renewals: [string, string][] = [];
    const checker = (at: number, log: Logger = pino({ level: "silent" })) =>
      startHealthChecks(gh.registry(), gh.gh.store, {
        intervalMs: 300,
        log,
        now: () => at,
        keyRing: keyRing(),
        onRenewed: async (name, expires) => void renewals.push([name, expires]),
      });
    /** A token issued in a later second than `t`, so that a renewal due at `t`'s schedule is not due for it. */
    const afterIssue = async (t: TokenTimes): Promise<void> => {
      const wait = t.issuedAt + 2000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    };
    /** Wait until the API server's RBAC (an informer cache) says `answer` to the service account's own TokenRequest. */
    const canRenew = (answer: "yes" | "no") =>
      eventually(
        async () => {
          const r = await kc([
            "auth",
            "can-i",
            "create",
            "serviceaccounts/gatehouse-gateway",
            "--subresource=token",
            "-n",
            NS,
            "--as",
            SA_USER,
          ]);
          return r.stdout.trim() === answer ? true : undefined;
        },
        10_000,
        `RBAC to answer ${answer}`,
      );
    const storedBodies = async (): Promise<string> => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const rows = await db.query<{ body: string }>("select body from objects where kind = 'Cluster'");
        return rows.rows.map((r) => r.body).join("\n");
      } finally {
        await db.end();
      }
    };

    it("bootstraps a Role that lets the service account create tokens of itself, and records the lifetime", async () => {
      const r = await bootstrap("--label", "env=ci");
      expect(r.stdout).toContain("role/gatehouse:token-renewer created");
      expect(r.stdout).toContain("rolebinding/gatehouse:token-renewer created");

      const role = JSON.parse(
        (await kc(["get", "role", "gatehouse:token-renewer", "-n", NS, "-o", "json"])).stdout,
      ) as { rules: unknown[] };
      expect(role.rules).toEqual([
        {
          apiGroups: [""],
          resources: ["serviceaccounts/token"],
          resourceNames: ["gatehouse-gateway"],
          verbs: ["create"],
        },
      ]);
      const binding = JSON.parse(
        (await kc(["get", "rolebinding", "gatehouse:token-renewer", "-n", NS, "-o", "json"])).stdout,
      ) as { roleRef: unknown; subjects: unknown[] };
      expect(binding.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "gatehouse:token-renewer",
      });
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: "gatehouse-gateway", namespace: NS },
      ]);

      const t = times(await storedToken());
      expect(t.expiresAt - t.issuedAt).toBe(600_000);
      const imp = (await status()).impersonator;
      expect(imp).toMatchObject({ serviceAccount: `${NS}/gatehouse-gateway`, tokenExpirationSeconds: 600 });
      expect(Date.parse(imp?.tokenExpirationTimestamp as string)).toBe(t.expiresAt);
      expect(imp).not.toHaveProperty("renewedAt");

      const show = await gh.cli(["cluster", "show", NAME]);
      expect(show.stdout).toMatch(
        new RegExp(`^Token expires:\\s+${imp?.tokenExpirationTimestamp as string}$`, "m"),
      );
    });

    it("the token may create tokens of its own service account and of no other (403 from the API server)", async () => {
      const token = await storedToken();
      expect((await kc(["create", "serviceaccount", "other", "-n", NS])).code).toBe(0);
      expect((await kc(["create", "serviceaccount", "other", "-n", "default"])).code).toBe(0);

      const own = await tokenRequest(cluster, token, NS, "gatehouse-gateway");
      expect(own.status).toBe(201);
      for (const [ns, sa] of [
        [NS, "other"],
        ["default", "other"],
        ["default", "gatehouse-gateway"],
      ] as const) {
        const r = await tokenRequest(cluster, token, ns, sa);
        expect(r.status, `${ns}/${sa}`).toBe(403);
        expect(r.message).toBe(
          `serviceaccounts "${sa}" is forbidden: User "${SA_USER}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${ns}"`,
        );
      }
      // Nor can it change its Role, read or change service accounts, or read their secrets.
      const asGateway = (args: string[]) =>
        kubectl([
          "--kubeconfig=/dev/null",
          "--server",
          cluster.url,
          "--certificate-authority",
          cluster.caFile,
          "--token",
          token,
          "-n",
          NS,
          ...args,
        ]);
      for (const args of [
        ["update", "roles/gatehouse:token-renewer"],
        ["update", "rolebindings/gatehouse:token-renewer"],
        ["get", "serviceaccounts/gatehouse-gateway"],
        ["update", "serviceaccounts/gatehouse-gateway"],
        ["create", "serviceaccounts"],
        ["list", "secrets"],
      ])
        expect((await asGateway(["auth", "can-i", ...args])).stdout.trim(), args.join(" ")).toBe("no");
    });

    it("is left alone until two thirds of its lifetime have passed, then renewed by the health loop", async () => {
      const old = await storedToken();
      const t = times(old);
      const oldSealed = await storedBodies();
      await afterIssue(t);
      const due = renewalDueAt(t);
      expect(due - t.issuedAt).toBe(400_000);

      let stop = checker(due - 1);
      try {
        await eventually(
          async () => ((await status()).health?.lastChecked === iso(due - 1) ? true : undefined),
          30_000,
          "a health round one millisecond before renewal is due",
        );
      } finally {
        await stop();
      }
      expect(await storedToken()).toBe(old);

      stop = checker(due + 1);
      const renewed = await eventually(
        async () => {
          const now = await storedToken();
          return now !== old ? now : undefined;
        },
        30_000,
        "the token to be renewed",
      ).finally(stop);
      const n = times(renewed);
      expect(n.issuedAt).toBeGreaterThan(t.issuedAt);
      expect(n.expiresAt - n.issuedAt).toBe(600_000); // the same lifetime was asked for
      const imp = (await status()).impersonator;
      expect(imp).toMatchObject({
        serviceAccount: `${NS}/gatehouse-gateway`,
        tokenExpirationSeconds: 600,
        renewedAt: iso(due + 1),
      });
      expect(Date.parse(imp?.tokenExpirationTimestamp as string)).toBe(n.expiresAt);
      // Told once, after the store write (the server records it as a cluster.updated audit event).
      expect(renewals).toEqual([[NAME, imp?.tokenExpirationTimestamp]]);

      // The new token works by itself (a public endpoint) and through impersonation.
      const version = await get(cluster, renewed, "/version");
      expect(version.status).toBe(200);
      expect(version.body).toContain('"gitVersion": "v1.37.2"');
      const who = await kubectl([
        "--kubeconfig=/dev/null",
        "--server",
        cluster.url,
        "--certificate-authority",
        cluster.caFile,
        "--token",
        renewed,
        "--as",
        "alice",
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
      ]);
      expect(who.stdout).toBe("alice");

      // Stored sealed, and only the new one: neither token in plaintext, the old ciphertext gone.
      const oldCipher = /"ciphertext":"([^"]+)"/.exec(oldSealed)?.[1] as string;
      expect(oldCipher).toMatch(/^v1:key-/);
      const bodies = await storedBodies();
      expect(bodies).not.toContain(oldCipher);
      expect(bodies).not.toContain(old);
      expect(bodies).not.toContain(renewed);
      expect(bodies).toMatch(/"ciphertext":"v1:key-[0-9a-f]{8}:/);

      const show = await gh.cli(["cluster", "show", NAME]);
      expect(show.stdout).toMatch(new RegExp(`^Token renewed:\\s+${iso(due + 1)}$`, "m"));
      expect(show.stdout).toMatch(
        new RegExp(`^Token expires:\\s+${imp?.tokenExpirationTimestamp as string}$`, "m"),
      );
    });

    it("two replicas due at once: one renews, the other keeps its hands off", async () => {
      const old = await storedToken();
      const t = times(old);
      await afterIssue(t);
      const at = renewalDueAt(t) + 1;
      const second = await Store.open({ kind: "postgres", url });
      try {
        const opts = { now: () => at, timeoutMs: 5000 };
        const outcomes = await Promise.all([
          createTokenRenewer(gh.gh.store, keyRing(), opts).renew(NAME),
          createTokenRenewer(second, keyRing(), opts).renew(NAME),
        ]);
        const kinds = outcomes.map((o) => o.kind).sort();
        // Usually both read the old token and the second writer finds the credential replaced
        // ("superseded"); if one read after the other's write, it finds a fresh token ("notDue").
        expect(kinds.filter((k) => k === "renewed")).toHaveLength(1);
        expect(["superseded", "notDue"]).toContain(kinds.find((k) => k !== "renewed"));
        const now = await storedToken();
        expect(now).not.toBe(old);
        // A third look at the same moment finds nothing to do.
        expect((await createTokenRenewer(second, keyRing(), opts).renew(NAME)).kind).toBe("notDue");
        expect((await get(cluster, now, "/version")).status).toBe(200);
      } finally {
        await second.close();
      }
    });

    it("a cluster without the Role reports a clear failure in its health and the log, and --replace repairs it", async () => {
      // As on a cluster bootstrapped before Gatehouse renewed tokens.
      expect((await kc(["delete", "rolebinding", "gatehouse:token-renewer", "-n", NS])).code).toBe(0);
      expect((await kc(["delete", "role", "gatehouse:token-renewer", "-n", NS])).code).toBe(0);
      await canRenew("no");
      const old = await storedToken();
      const t = times(old);
      const lines: string[] = [];
      const log = pino({ level: "warn" }, { write: (s: string) => lines.push(s) });
      const stop = checker(renewalDueAt(t) + 1, log);
      let health;
      try {
        health = await eventually(
          async () => {
            const h = (await status()).health;
            return h?.message.includes("token renewal failed") ? h : undefined;
          },
          30_000,
          "the renewal failure to show in the health status",
        );
      } finally {
        await stop();
      }
      const problem = `token renewal failed: the cluster refused to renew the token (403 Forbidden): ${NS}/gatehouse-gateway lacks the Role gatehouse:token-renewer (clusters bootstrapped before Gatehouse renewed tokens do not have it); it expires at ${iso(t.expiresAt)}: ${ADVICE}`;
      // The token still works until it expires: ready, with the problem spelt out.
      expect(health).toMatchObject({ ready: true, message: `ok; ${problem}` });
      expect(await storedToken()).toBe(old);
      const warned = lines.map((l) => JSON.parse(l) as { level: number; cluster?: string; msg: string });
      expect(warned).toContainEqual(expect.objectContaining({ level: 40, cluster: NAME, msg: problem }));

      // The advice, followed: bootstrap again over the registered cluster.
      const plain = await gh.cli(["cluster", "add", NAME, "--kubeconfig", cluster.kubeconfigPath]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain(
        `cluster "${NAME}" already exists in Gatehouse; remove it first, or bootstrap it again with --replace`,
      );
      const r = await bootstrap("--replace");
      expect(r.stdout).toContain("role/gatehouse:token-renewer created");
      expect(r.stdout).toContain("rolebinding/gatehouse:token-renewer created");
      expect(r.stdout).toContain("serviceaccount/gatehouse-gateway unchanged");
      expect(r.stdout).toMatch(
        new RegExp(`cluster/${NAME} replaced \\(impersonator ${NS}/gatehouse-gateway, token expires \\d{4}-`),
      );
      const target = await gh.registry().get(NAME);
      expect(target?.labels).toEqual({ env: "ci" }); // labels kept
      expect(target?.controllerUser).toBe("gatehouse:controller");
      const fresh = target?.token as string;
      expect(fresh).not.toBe(old);
      expect((await status()).impersonator).not.toHaveProperty("renewedAt");

      const ft = times(fresh);
      await afterIssue(ft);
      await canRenew("yes");
      const outcome = await createTokenRenewer(gh.gh.store, keyRing(), {
        now: () => renewalDueAt(ft) + 1,
        timeoutMs: 5000,
      }).renew(NAME);
      expect(outcome.kind).toBe("renewed");
    });

    it("a cluster registered by hand with the service account's own token is recognised and renewed too", async () => {
      const made = await kc(["create", "token", "gatehouse-gateway", "-n", NS, "--duration=10m"]);
      expect(made.code).toBe(0);
      const manual = made.stdout.trim();
      const file = join(gh.dir, "gateway.kubeconfig");
      writeFileSync(file, readFileSync(cluster.kubeconfigPath, "utf8").replace(cluster.adminToken, manual));
      const r = await gh.cli([
        "cluster",
        "add",
        "by-hand",
        "--kubeconfig",
        file,
        "--bootstrap-impersonator=false",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^cluster/by-hand added \\(impersonator ${NS}/gatehouse-gateway, token expires \\d{4}-`),
      );
      const target = await gh.registry().get("by-hand");
      expect(target?.token).toBe(manual);
      expect(target?.controllerUser).toBe("gatehouse:controller");
      const t = times(manual);
      const imp = (
        (await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters/by-hand")).json()[
          "status"
        ] as ClusterStatus
      ).impersonator;
      expect(imp).toEqual({
        serviceAccount: `${NS}/gatehouse-gateway`,
        tokenExpirationTimestamp: iso(t.expiresAt).replace(".000Z", "Z"),
        tokenExpirationSeconds: 600,
      });

      await afterIssue(t);
      const outcome = await createTokenRenewer(gh.gh.store, keyRing(), {
        now: () => renewalDueAt(t) + 1,
        timeoutMs: 5000,
      }).renew("by-hand");
      expect(outcome.kind).toBe("renewed");
      const renewed = (await gh.registry().get("by-hand"))?.token as string;
      expect(renewed).not.toBe(manual);
      expect(times(renewed).expiresAt - times(renewed).issuedAt).toBe(600_000);
    });

    it("--replace refuses a kubeconfig for another server, and a cluster that is not registered", async () => {
      const elsewhere = join(gh.dir, "elsewhere.kubeconfig");
      const port = await freePort();
      writeFileSync(
        elsewhere,
        readFileSync(cluster.kubeconfigPath, "utf8").replace(cluster.url, `https://127.0.0.1:${port}`),
      );
      const other = await gh.cli(["cluster", "add", NAME, "--kubeconfig", elsewhere, "--replace"]);
      expect(other.code).toBe(2);
      expect(other.stderr).toContain(
        `cluster "${NAME}" is registered for ${cluster.url}, the kubeconfig points at https://127.0.0.1:${port}; remove it first`,
      );
      const missing = await gh.cli([
        "cluster",
        "add",
        "nope",
        "--kubeconfig",
        cluster.kubeconfigPath,
        "--replace",
      ]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('cluster "nope" not found; --replace needs it');
    });
  },
);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** POST a TokenRequest with `token` alone, as the renewal does. */
async function tokenRequest(
  cluster: TestCluster,
  token: string,
  namespace: string,
  name: string,
): Promise<{ status: number; message?: string }> {
  const r = await send(
    cluster,
    token,
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    JSON.stringify({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 600 },
    }),
  );
  const body = JSON.parse(r.body) as { message?: string };
  return body.message !== undefined ? { status: r.status, message: body.message } : { status: r.status };
}

function get(cluster: TestCluster, token: string, path: string): Promise<{ status: number; body: string }> {
  return send(cluster, token, "GET", path);
}

function send(
  cluster: TestCluster,
  token: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.url}${path}`,
      {
        method,
        ca: cluster.caPem,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let s = "";
        res.on("data", (c: Buffer) => (s += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: s }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
