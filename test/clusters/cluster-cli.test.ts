import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { freePort } from "../harness/ports.js";
import { kubectl } from "../e2e/kubectl.js";
import { eventually, startFixture, type GatehouseFixture } from "./fixture.js";

const KUBE_VERSION = "v1.37.2";
const SA_USER = "system:serviceaccount:gatehouse-system:gatehouse-gateway";

interface Listed {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec: Record<string, unknown>;
    status?: { kubernetesVersion?: string; health?: { ready: boolean; message: string } };
  }[];
}

// Every CLI run is a fresh process (tsx): allow for a loaded machine.
describe("gatehouse cluster, against a real cluster and Gatehouse on SQLite", { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let gh: GatehouseFixture;
  let token = "";

  beforeAll(async () => {
    [cluster] = (await startClusters(1, { name: "kube-a" })) as [TestCluster];
    gh = await startFixture();
  });
  afterAll(async () => {
    await gh?.stop();
    await cluster?.stop();
  });

  const kc = (args: string[]) => kubectl(["--kubeconfig", cluster.kubeconfigPath, ...args]);
  /** kubectl with only the stored token, as the gateway would authenticate. */
  const asGateway = (args: string[]) =>
    kubectl([
      "--kubeconfig=/dev/null",
      "--server",
      cluster.url,
      "--certificate-authority",
      cluster.caFile,
      "--token",
      token,
      ...args,
    ]);

  it("adds a cluster from an admin kubeconfig, bootstrapping a service account that may only impersonate", async () => {
    const r = await gh.cli([
      "cluster",
      "add",
      "alpha",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--label",
      "env=dev",
      "--label",
      "region=eu-west-1",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("namespace/gatehouse-system created");
    expect(r.stdout).toContain("serviceaccount/gatehouse-gateway created");
    expect(r.stdout).toContain("clusterrole/gatehouse:impersonator created");
    expect(r.stdout).toContain("clusterrolebinding/gatehouse:impersonator created");
    expect(r.stdout).toMatch(
      /cluster\/alpha added \(impersonator gatehouse-system\/gatehouse-gateway, token expires \d{4}-/,
    );

    const role = JSON.parse(
      (await kc(["get", "clusterrole", "gatehouse:impersonator", "-o", "json"])).stdout,
    ) as {
      rules: unknown[];
    };
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["users", "groups", "serviceaccounts"], verbs: ["impersonate"] },
      { apiGroups: ["authentication.k8s.io"], resources: ["*"], verbs: ["impersonate"] },
    ]);
    const binding = JSON.parse(
      (await kc(["get", "clusterrolebinding", "gatehouse:impersonator", "-o", "json"])).stdout,
    ) as {
      subjects: unknown[];
    };
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "gatehouse-gateway", namespace: "gatehouse-system" },
    ]);

    const target = await gh.registry().get("alpha");
    expect(target).toMatchObject({
      name: "alpha",
      server: cluster.url,
      labels: { env: "dev", region: "eu-west-1" },
    });
    expect(target?.caPem).toBe(cluster.caPem);
    token = target?.token as string;
    expect(token).toMatch(/^eyJ/); // a service-account JWT, not the admin's static token
    expect(token).not.toBe(cluster.adminToken);
  });

  it("stores a token that acts only through impersonation: the impersonated user's own rights apply", async () => {
    const asAlice = await asGateway(["--as", "alice", "get", "pods", "-n", "default"]);
    expect(asAlice.code).not.toBe(0);
    expect(asAlice.stderr).toContain('User "alice" cannot list resource "pods"');
    expect(asAlice.stderr).not.toContain(SA_USER);

    const who = await asGateway([
      "auth",
      "whoami",
      "-o",
      "json",
      "--as",
      "alice",
      "--as-group",
      "devs",
      "--as-uid",
      "u-1",
    ]);
    expect(who.stderr).toBe("");
    const info = (JSON.parse(who.stdout) as { status: { userInfo: Record<string, unknown> } }).status
      .userInfo;
    expect(info).toMatchObject({ username: "alice", uid: "u-1" });
    expect(info["groups"]).toContain("devs");
  });

  it("lets the token impersonate arbitrary user extras (RBAC has no userextras/* wildcard; the rule says *)", async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${cluster.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
        {
          method: "POST",
          ca: cluster.caPem,
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "impersonate-user": "alice",
            "impersonate-extra-team": "blue",
            "impersonate-extra-acme.com%2fscopes": "read",
          },
        },
        (res) => {
          let s = "";
          res.on("data", (c: Buffer) => (s += c.toString()));
          res.on("end", () => resolve(s));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }));
    });
    const info = (
      JSON.parse(reply) as { status: { userInfo: { username: string; extra: Record<string, string[]> } } }
    ).status.userInfo;
    expect(info.username).toBe("alice");
    expect(info.extra).toEqual({ team: ["blue"], "acme.com/scopes": ["read"] });
  });

  it("fails closed when impersonation headers are lost: the token by itself may do nothing", async () => {
    for (const args of [
      ["get", "pods", "-n", "default"],
      ["get", "namespaces"],
      ["get", "secrets", "-A"],
      ["create", "namespace", "evil"],
    ]) {
      const r = await asGateway(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr).toContain(`User "${SA_USER}" cannot`);
    }
    const canI = await asGateway(["auth", "can-i", "--list"]);
    expect(canI.stdout).not.toMatch(/^\*\.\*/m);
    expect((await asGateway(["auth", "can-i", "impersonate", "users"])).stdout.trim()).toBe("yes");
    expect((await asGateway(["auth", "can-i", "get", "pods"])).stdout.trim()).toBe("no");
    expect(
      (await asGateway(["auth", "can-i", "create", "tokenreviews.authentication.k8s.io"])).stdout.trim(),
    ).toBe("no");
  });

  it("Gatehouse's own controllers act as gatehouse:controller through the impersonator: an access binding reaches the cluster", async () => {
    const target = await gh.registry().get("alpha");
    expect(target?.controllerUser).toBe("gatehouse:controller");
    expect(
      JSON.parse((await kc(["get", "clusterrolebinding", "gatehouse:controller", "-o", "json"])).stdout),
    ).toMatchObject({
      roleRef: { kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "User", name: "gatehouse:controller" }],
    });
    const before = await kc(["auth", "can-i", "list", "pods", "-n", "default", "--as", "dana"]);
    expect(before.stdout.trim()).toBe("no");
    const created = await gh.api("POST", "/apis/gatehouse.io/v1alpha1/accessbindings", {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "AccessBinding",
      metadata: { name: "dana-views-alpha" },
      spec: {
        subjects: [{ kind: "User", name: "dana" }],
        roleRef: { name: "view" },
        clusters: { names: ["alpha"] },
      },
    });
    expect(created.status).toBe(201);
    const results = await gh.gh.reconciler.runOnce();
    expect(results.get("alpha")).not.toHaveProperty("error");
    const after = await kc(["auth", "can-i", "list", "pods", "-n", "default", "--as", "dana"]);
    expect(after.stdout.trim()).toBe("yes");
    // The token by itself still may do nothing (the previous test's guarantee holds).
    expect((await asGateway(["auth", "can-i", "list", "clusterrolebindings"])).stdout.trim()).toBe("no");
  });

  it("never serves the credentials and does not store them in plaintext", async () => {
    const list = await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters");
    const one = await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters/alpha");
    const yaml = await gh.cli(["cluster", "show", "alpha", "-o", "yaml"]);
    for (const body of [list.body, one.body, yaml.stdout]) {
      expect(body).not.toContain(token);
      expect(body).not.toContain(cluster.adminToken);
    }
    expect(one.json()["spec"]).toMatchObject({
      server: cluster.url,
      credentials: { type: "token", encrypted: true },
    });
    expect(JSON.stringify(one.json())).not.toContain("ciphertext");

    const files = readdirSync(gh.dir).filter((n) => n.startsWith("gatehouse.db"));
    expect(files).toContain("gatehouse.db");
    const bytes = Buffer.concat(files.map((n) => readFileSync(join(gh.dir, n))));
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    // Neither the JWT's signature part nor the admin credential (which never left this machine).
    expect(bytes.includes(Buffer.from(token.split(".")[2] as string))).toBe(false);
    expect(bytes.includes(Buffer.from(cluster.adminToken))).toBe(false);
    // ...but the ciphertext is there, under the data directory's key.
    expect(bytes.toString("latin1")).toMatch(/v1:key-[0-9a-f]{8}:/);
  });

  it("lists the cluster with its version and readiness after a health check", async () => {
    await eventually(
      async () => {
        const s = (await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters/alpha")).json()["status"];
        return (s as Listed["items"][number]["status"])?.health?.ready ? true : undefined;
      },
      30_000,
      "cluster alpha to be ready",
    );
    const listed = await gh.cli(["cluster", "list"]);
    expect(listed.code).toBe(0);
    const table = listed.stdout;
    const [header, row] = table.split("\n");
    expect(header).toMatch(/^NAME\s+SERVER\s+VERSION\s+READY\s+LABELS\s+AGE$/);
    expect(row).toMatch(
      new RegExp(
        `^alpha\\s+${cluster.url.replace(/[.]/g, "\\.")}\\s+${KUBE_VERSION}\\s+True\\s+env=dev,region=eu-west-1\\s+\\d+[sm]$`,
      ),
    );
    const json = JSON.parse((await gh.cli(["cluster", "list", "-o", "json"])).stdout) as Listed;
    expect(json.items[0]?.status).toMatchObject({
      kubernetesVersion: KUBE_VERSION,
      health: { ready: true, message: "ok" },
      impersonator: { serviceAccount: "gatehouse-system/gatehouse-gateway" },
    });
    const show = await gh.cli(["cluster", "show", "alpha"]);
    expect(show.stdout).toMatch(/^Name:\s+alpha$/m);
    expect(show.stdout).toMatch(/^Credentials:\s+token \(encrypted at rest\)$/m);
    expect(show.stdout).toMatch(/^Impersonator:\s+gatehouse-system\/gatehouse-gateway$/m);
    expect(show.stdout).toMatch(new RegExp(`^Kubernetes version:\\s+${KUBE_VERSION}$`, "m"));
  });

  it("labels as kubectl label does: set, refuse to change without --overwrite, change with it, remove", async () => {
    expect((await gh.cli(["cluster", "label", "alpha", "team=payments"])).stdout).toBe(
      "cluster/alpha labeled\n",
    );
    const clash = await gh.cli(["cluster", "label", "alpha", "env=prod"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain("'env' already has a value (dev), and --overwrite is false");
    expect((await gh.cli(["cluster", "label", "alpha", "env=prod", "--overwrite"])).code).toBe(0);
    expect((await gh.cli(["cluster", "label", "alpha", "region-"])).code).toBe(0);
    expect((await gh.cli(["cluster", "label", "alpha", "team=payments"])).stdout).toBe(
      "cluster/alpha not labeled\n",
    );
    const bad = await gh.cli(["cluster", "label", "alpha", "Bad Key=x"]);
    expect(bad.code).toBe(2);
    const target = await gh.registry().get("alpha");
    expect(target?.labels).toEqual({ env: "prod", team: "payments" });
    // Relabelling kept the stored credential and the server-owned status.
    expect(target?.token).toBe(token);
    const sel = JSON.parse(
      (await gh.cli(["cluster", "list", "-l", "team=payments", "-o", "json"])).stdout,
    ) as Listed;
    expect(sel.items.map((i) => i.metadata.name)).toEqual(["alpha"]);
    const none = JSON.parse(
      (await gh.cli(["cluster", "list", "-l", "env=dev", "-o", "json"])).stdout,
    ) as Listed;
    expect(none.items).toEqual([]);
  });

  it("re-running the bootstrap on a cluster is idempotent and repairs a widened ClusterRole", async () => {
    await kc([
      "patch",
      "clusterrole",
      "gatehouse:impersonator",
      "--type=json",
      "-p",
      '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}}]',
    ]);
    const r = await gh.cli(["cluster", "add", "alpha-again", "--kubeconfig", cluster.kubeconfigPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("namespace/gatehouse-system unchanged");
    expect(r.stdout).toContain("clusterrole/gatehouse:impersonator configured");
    const role = JSON.parse(
      (await kc(["get", "clusterrole", "gatehouse:impersonator", "-o", "json"])).stdout,
    ) as {
      rules: unknown[];
    };
    expect(role.rules).toHaveLength(2);
    expect((await gh.cli(["cluster", "remove", "alpha-again"])).code).toBe(0);
  });

  it("with --bootstrap-impersonator=false stores the kubeconfig's own credential", async () => {
    const r = await gh.cli([
      "cluster",
      "add",
      "direct",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--bootstrap-impersonator=false",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("cluster/direct added (with the kubeconfig's own credential)\n");
    const t = await gh.registry().get("direct");
    expect(t?.token).toBe(cluster.adminToken);
    const obj = (await gh.api("GET", "/apis/gatehouse.io/v1alpha1/clusters/direct")).json();
    expect(obj["status"]).not.toHaveProperty("impersonator");
    expect((await gh.cli(["cluster", "remove", "direct"])).code).toBe(0);
  });

  it("refuses bad input with exit 2 or 3 and a clear message, and stores nothing", async () => {
    const dir = gh.dir;
    const malformed = join(dir, "malformed.kubeconfig");
    writeFileSync(malformed, "clusters: [this is: not: yaml\n");
    const noServer = join(dir, "dead.kubeconfig");
    const deadPort = await freePort();
    writeFileSync(
      noServer,
      readFileSync(cluster.kubeconfigPath, "utf8").replace(cluster.url, `https://127.0.0.1:${deadPort}`),
    );
    // A server that accepts connections and never answers.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentPort = (silent.address() as { port: number }).port;
    const hanging = join(dir, "hanging.kubeconfig");
    writeFileSync(
      hanging,
      readFileSync(cluster.kubeconfigPath, "utf8").replace(cluster.url, `https://127.0.0.1:${silentPort}`),
    );
    const badToken = join(dir, "badtoken.kubeconfig");
    writeFileSync(
      badToken,
      readFileSync(cluster.kubeconfigPath, "utf8").replace(cluster.adminToken, "not-a-valid-token"),
    );
    try {
      const cases: [string[], number, RegExp][] = [
        [
          ["--kubeconfig", join(dir, "missing.kubeconfig")],
          2,
          /missing\.kubeconfig: cannot read kubeconfig: ENOENT/,
        ],
        [["--kubeconfig", cluster.kubeconfigPath, "--context", "nope"], 2, /context "nope" not found/],
        [["--kubeconfig", malformed], 2, /malformed\.kubeconfig: invalid YAML/],
        [
          ["--kubeconfig", noServer],
          3,
          new RegExp(`cannot talk to the cluster at https://127\\.0\\.0\\.1:${deadPort}: .*ECONNREFUSED`),
        ],
        [
          ["--kubeconfig", hanging, "--request-timeout", "1s"],
          3,
          /cannot talk to the cluster at .*timed out/,
        ],
        [["--kubeconfig", badToken], 2, /rejected the kubeconfig's credential/],
        [["--kubeconfig", cluster.kubeconfigPath, "--label", "env"], 2, /--label: "env": expected KEY=VALUE/],
        [
          ["--kubeconfig", cluster.kubeconfigPath, "--bootstrap-impersonator", "maybe"],
          2,
          /expected true or false/,
        ],
      ];
      for (const [args, code, message] of cases) {
        const r = await gh.cli(["cluster", "add", "broken", ...args]);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toContain(cluster.adminToken);
      }
      expect(
        (await gh.cli(["cluster", "add", "Bad_Name", "--kubeconfig", cluster.kubeconfigPath])).code,
      ).toBe(2);
      const dup = await gh.cli(["cluster", "add", "alpha", "--kubeconfig", cluster.kubeconfigPath]);
      expect(dup.code).toBe(2);
      expect(dup.stderr).toContain('cluster "alpha" already exists');
    } finally {
      silent.close();
    }
    const names = (JSON.parse((await gh.cli(["cluster", "list", "-o", "json"])).stdout) as Listed).items.map(
      (i) => i.metadata.name,
    );
    expect(names).toEqual(["alpha"]);
  });

  it("removes a cluster and says how to revoke the service account", async () => {
    const r = await gh.cli(["cluster", "remove", "alpha"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("cluster/alpha removed\n");
    expect(r.stderr).toContain("kubectl delete serviceaccount gatehouse-gateway -n gatehouse-system");
    expect(await gh.registry().get("alpha")).toBeUndefined();
    expect((await gh.cli(["cluster", "list"])).stdout).toBe(
      "NAME   SERVER   VERSION   READY   LABELS   AGE\n",
    );
    const again = await gh.cli(["cluster", "remove", "alpha"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("not found");
    // Deleting the service account revokes every token it was given (the API server may cache a
    // token it accepted for a few seconds).
    await kc(["delete", "serviceaccount", "gatehouse-gateway", "-n", "gatehouse-system"]);
    const revoked = await eventually(
      async () => {
        const r = await asGateway(["--as", "alice", "get", "pods"]);
        return /Unauthorized|must be logged in/.test(r.stderr) ? r : undefined;
      },
      30_000,
      "the token to stop working",
    );
    expect(revoked.code).not.toBe(0);
  });
});
