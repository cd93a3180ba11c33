import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { kubectl } from "../e2e/kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "../e2e/gateway-setup.js";
import { call } from "../server/client.js";
import { gatehouse } from "../cli/run.js";

type Who = { token: string; kubeconfig: string };
type Event = { type: string; object: Record<string, unknown> & { metadata: Record<string, unknown> } };

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !ok();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A long-running kubectl (get -w) whose output is read while it runs. */
function kubectlStream(args: string[]) {
  const child = spawn("kubectl", args);
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let code: number | undefined;
  child.on("exit", (c) => (code = c ?? 1));
  return {
    out: () => out,
    err: () => err,
    code: () => code,
    stop: () => child.kill("SIGTERM"),
  };
}

describe("tenant self-service through the gateway: watch, dry runs, reading your own Tenant", () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let alice: Who;
  let bob: Who;
  let dave: Who;
  const erinPassword = "erin-is-a-member-1";
  let admin: (...args: string[]) => ReturnType<typeof kubectl>;
  const k = (who: Who, ...args: string[]) =>
    kubectl(["--kubeconfig", who.kubeconfig, "--context", "cluster-1", ...args]);
  const gw = (who: Who, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    call(fx.gh.url, fx.ca, method, `/k8s/clusters/cluster-1${path}`, {
      // Node sends a DELETE's body without a length unless told: say it.
      headers: {
        authorization: `Bearer ${who.token}`,
        ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
  const api = (who: Who, method: string, path: string, body?: unknown) =>
    call(fx.gh.url, fx.ca, method, `/apis/gatehouse.io/v1alpha1${path}`, {
      headers: { authorization: `Bearer ${who.token}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const cliAs = (user: string, password: string, ...args: string[]) =>
    gatehouse(args, {
      env: {
        GATEHOUSE_SERVER: fx.gh.url,
        GATEHOUSE_USERNAME: user,
        GATEHOUSE_PASSWORD: password,
        GATEHOUSE_CA: fx.ca,
      },
    });

  /** A raw watch through the gateway, its events parsed as they arrive. */
  function rawWatch(who: Who, query: string, headers: Record<string, string> = {}) {
    const events: Event[] = [];
    let buf = "";
    let status = 0;
    let body = "";
    let ended = false;
    const req = request(
      {
        host: new URL(fx.gh.url).hostname,
        port: new URL(fx.gh.url).port,
        path: `/k8s/clusters/cluster-1/api/v1/namespaces?${query}`,
        headers: { authorization: `Bearer ${who.token}`, accept: "application/json", ...headers },
        ca: readFileSync(fx.ca),
        agent: false,
        servername: "localhost",
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.on("data", (c: Buffer) => {
          body += c.toString();
          buf += c.toString();
          for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) events.push(JSON.parse(line) as Event);
          }
        });
        res.on("end", () => (ended = true));
        res.on("error", () => (ended = true));
      },
    );
    req.on("error", () => (ended = true));
    req.end();
    return {
      events,
      names: () => events.map((e) => String(e.object.metadata["name"] ?? "")),
      status: () => status,
      body: () => body,
      ended: () => ended,
      close: () => req.destroy(),
    };
  }

  beforeAll(async () => {
    clusters = await startClusters(1, {});
    admin = (...args) => kubectl(["--kubeconfig", clusters[0]!.kubeconfigPath, ...args]);
    fx = await startGatewayFixture(clusters, { "cluster-1": { env: "dev" } });
    alice = await fx.user("alice");
    bob = await fx.user("bob");
    dave = await fx.user("dave");
    await fx.apply("users", { kind: "User", metadata: { name: "erin" }, spec: { password: erinPassword } });
    await fx.apply("teams", { kind: "Team", metadata: { name: "acme-devs" }, spec: { users: ["erin"] } });
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "acme" },
      spec: {
        owners: [{ kind: "User", name: "alice" }],
        members: [{ kind: "Team", name: "acme-devs" }],
        clusters: { names: ["cluster-1"] },
        naming: { prefix: "acme-" },
        maxSpaces: 4,
      },
    });
    await fx.apply("tenants", {
      kind: "Tenant",
      metadata: { name: "beta" },
      spec: { owners: [{ kind: "User", name: "bob" }], clusters: { names: ["cluster-1"] } },
    });
    for (const [who, ns] of [
      [alice, "acme-web"],
      [bob, "beta-one"],
    ] as const) {
      const made = await k(who, "create", "namespace", ns);
      expect(made.code, made.stderr).toBe(0);
    }
  }, 600_000);
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("kubectl get namespaces -w shows an owner their tenant's namespaces as they come, never another tenant's", async () => {
    const w = kubectlStream(["--kubeconfig", alice.kubeconfig, "--context", "cluster-1", "get", "ns", "-w"]);
    const only = kubectlStream([
      "--kubeconfig",
      alice.kubeconfig,
      "--context",
      "cluster-1",
      "get",
      "ns",
      "--watch-only",
      "-o",
      "name",
    ]);
    try {
      await until("the listed namespaces", () => w.out().includes("acme-web"));
      // --watch-only prints nothing for what exists; give it its list and watch first.
      await new Promise((r) => setTimeout(r, 1500));
      // Another tenant's and an untenanted namespace appear on the cluster, then one of alice's.
      expect((await k(bob, "create", "namespace", "beta-two")).code).toBe(0);
      expect((await admin("create", "namespace", "outsider")).code).toBe(0);
      expect((await k(alice, "create", "namespace", "acme-api")).code).toBe(0);
      await until(
        "acme-api in the watch",
        () => w.out().includes("acme-api") && only.out().includes("acme-api"),
      );
      // Events come in resourceVersion order: had the others leaked, they would be here by now.
      const names = w
        .out()
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(/\s+/)[0]);
      expect(names).toEqual(["acme-web", "acme-api"]);
      expect(only.out()).toBe("namespace/acme-api\n");
      expect(w.err()).toBe("");
      expect(only.err()).toBe("");
    } finally {
      w.stop();
      only.stop();
    }
  });

  it("kubectl get namespace NAME -o yaml and -w work for the owner's own namespace only", async () => {
    const yaml = await k(alice, "get", "namespace", "acme-web", "-o", "yaml");
    expect(yaml.stderr).toBe("");
    expect(yaml.stdout).toContain("gatehouse.io/tenant: acme");
    expect(yaml.stdout).toContain("name: acme-web");
    const other = await k(alice, "get", "namespace", "beta-one", "-o", "yaml");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('cannot get resource "namespaces"');

    // get NAME -w: a GET, then a watch with fieldSelector metadata.name=NAME from resourceVersion 0.
    const w = kubectlStream([
      "--kubeconfig",
      alice.kubeconfig,
      "--context",
      "cluster-1",
      "get",
      "ns",
      "acme-web",
      "-w",
      "-o",
      'jsonpath={.metadata.name} {.metadata.labels.stage}{"\\n"}',
    ]);
    try {
      await until("acme-web", () => w.out().includes("acme-web"));
      await new Promise((r) => setTimeout(r, 1000));
      expect((await admin("label", "namespace", "acme-api", "stage=one")).code).toBe(0);
      expect((await admin("label", "namespace", "acme-web", "stage=two")).code).toBe(0);
      await until("the label change", () => w.out().includes("acme-web two"));
      expect(w.out()).not.toContain("acme-api");
      expect(w.err()).toBe("");
    } finally {
      w.stop();
    }
  });

  it("a raw watch: initial events and the initial-events-end bookmark carry nothing of other tenants", async () => {
    const w = rawWatch(
      alice,
      "watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=30",
    );
    try {
      await until("the initial-events-end bookmark", () => w.events.some((e) => e.type === "BOOKMARK"));
      expect(w.status()).toBe(200);
      const added = w.events.filter((e) => e.type === "ADDED").map((e) => e.object.metadata["name"]);
      expect(added.sort()).toEqual(["acme-api", "acme-web"]);
      const bookmark = w.events.find((e) => e.type === "BOOKMARK") as Event;
      expect(bookmark.object).toEqual({
        kind: "Namespace",
        apiVersion: "v1",
        metadata: {
          resourceVersion: expect.stringMatching(/^\d+$/),
          annotations: { "k8s.io/initial-events-end": "true" },
        },
        spec: {},
        status: {},
      });
      expect(w.body()).not.toMatch(/beta-|outsider|kube-system|"default"/);
    } finally {
      w.close();
    }
  });

  it("resumes from a list's resourceVersion, and a fieldSelector on another tenant's name yields nothing", async () => {
    const list = await gw(alice, "GET", "/api/v1/namespaces");
    const rv = list.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
    expect(rv).toMatch(/^\d+$/);
    expect((await k(bob, "create", "namespace", "beta-three")).code).toBe(0);
    expect((await k(alice, "create", "namespace", "acme-db")).code).toBe(0);
    const resumed = rawWatch(alice, `watch=true&resourceVersion=${rv}&timeoutSeconds=30`);
    const spy = rawWatch(
      alice,
      `watch=true&resourceVersion=0&fieldSelector=${encodeURIComponent("metadata.name=beta-one")}&timeoutSeconds=2`,
    );
    const own = rawWatch(
      alice,
      `watch=true&resourceVersion=0&fieldSelector=${encodeURIComponent("metadata.name=acme-web")}&timeoutSeconds=2`,
    );
    try {
      await until("acme-db", () => resumed.names().includes("acme-db"));
      // Everything after the list's version, of alice's tenant only, in order.
      expect(resumed.events.map((e) => `${e.type} ${String(e.object.metadata["name"])}`)).toEqual([
        "ADDED acme-db",
      ]);
      expect(resumed.events.every((e) => Number(e.object.metadata["resourceVersion"]) > Number(rv))).toBe(
        true,
      );
      await until("the short watches to end", () => spy.ended() && own.ended(), 15_000);
      expect(spy.status()).toBe(200);
      expect(spy.events).toEqual([]);
      expect(own.names()).toEqual(["acme-web"]);
    } finally {
      resumed.close();
      spy.close();
      own.close();
    }
  });

  it("a caller's label selector narrows the watch and never widens it; Tables and content types are kubectl's", async () => {
    const trick = rawWatch(
      alice,
      `watch=true&resourceVersion=0&timeoutSeconds=2&labelSelector=${encodeURIComponent("gatehouse.io/tenant=beta")}`,
    );
    const table = rawWatch(alice, "watch=true&resourceVersion=0&timeoutSeconds=2&includeObject=None", {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    });
    try {
      await until("the watches to end", () => trick.ended() && table.ended(), 15_000);
      expect(trick.status()).toBe(200);
      expect(trick.events).toEqual([]);
      expect(table.events.map((e) => e.object["kind"])).toEqual(["Table", "Table", "Table"]);
      const rows = table.events.flatMap((e) => e.object["rows"] as { cells: string[]; object?: unknown }[]);
      expect(rows.map((r) => r.cells[0]).sort()).toEqual(["acme-api", "acme-db", "acme-web"]);
      expect(rows.every((r) => r.object === undefined)).toBe(true);
    } finally {
      trick.close();
      table.close();
    }
    const proto = await gw(alice, "GET", "/api/v1/namespaces?watch=true", {
      accept: "application/vnd.kubernetes.protobuf;stream=watch",
    });
    expect(proto.status).toBe(406);
    expect(proto.json<{ reason: string }>().reason).toBe("NotAcceptable");
    // The cluster's refusal of the caller's own query is relayed as its Status.
    const badField = await gw(alice, "GET", "/api/v1/namespaces?watch=true&fieldSelector=spec.nope%3Dx");
    expect(badField.status).toBe(400);
    expect(badField.json<{ reason: string; message: string }>()).toMatchObject({ reason: "BadRequest" });
    expect(badField.json<{ message: string }>().message).toContain("spec.nope");
    // Someone with no tenant here takes the normal path: forbidden, as before.
    const none = await gw(dave, "GET", "/api/v1/namespaces?watch=true");
    expect(none.status).toBe(404); // dave may not even see the cluster
  });

  it("kubectl create namespace --dry-run=server answers as the real create would and creates nothing", async () => {
    const before = (
      await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/tenants/acme", {
        auth: fx.admin,
      })
    ).json<{ metadata: { resourceVersion: string }; status: unknown }>();
    const r = await k(alice, "create", "namespace", "acme-dry", "--dry-run=server", "-o", "json");
    expect(r.stderr).toBe("");
    const ns = JSON.parse(r.stdout) as { metadata: { name: string; labels: Record<string, string> } };
    expect(ns.metadata.name).toBe("acme-dry");
    expect(ns.metadata.labels).toMatchObject({
      "gatehouse.io/tenant": "acme",
      "gatehouse.io/managed": "tenancy",
      "pod-security.kubernetes.io/enforce": "restricted",
    });
    expect((await k(alice, "create", "namespace", "acme-dry2", "--dry-run=server")).stdout).toBe(
      "namespace/acme-dry2 created (server dry run)\n",
    );
    // Nothing on the cluster, nothing in Gatehouse (no space, the tenant's status and version unchanged).
    expect((await admin("get", "namespace", "acme-dry")).code).toBe(1);
    const spaces = await api(alice, "GET", "/spaces?tenant=acme");
    expect(
      spaces.json<{ items: { metadata: { name: string } }[] }>().items.map((s) => s.metadata.name),
    ).toEqual(["acme-api", "acme-db", "acme-web"]);
    const after = (
      await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/tenants/acme", {
        auth: fx.admin,
      })
    ).json<{ metadata: { resourceVersion: string }; status: unknown }>();
    expect(after).toEqual(before);

    // The refusals are the real create's: the name rules, AlreadyExists, then maxSpaces (4: one left).
    const bad = await k(alice, "create", "namespace", "web", "--dry-run=server");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The Namespace "web" is invalid');
    const exists = await k(alice, "create", "namespace", "acme-web", "--dry-run=server");
    expect(exists.stderr).toContain('namespaces "acme-web" already exists');
    expect((await k(alice, "create", "namespace", "acme-four")).code).toBe(0);
    const full = await k(alice, "create", "namespace", "acme-five", "--dry-run=server");
    expect(full.code).toBe(1);
    expect(full.stderr).toContain("tenant acme has 4 of at most 4 spaces");
    // A namespace that exists on the cluster outside Gatehouse: the cluster's own dry run says so.
    expect((await admin("create", "namespace", "beta-manual")).code).toBe(0);
    const clash = await k(bob, "create", "namespace", "beta-manual", "--dry-run=server");
    expect(clash.stderr).toContain('namespaces "beta-manual" already exists');
    // Only "All" is a dry run; anything else is kube-apiserver's 422, and nothing is created.
    const odd = await gw(
      bob,
      "POST",
      "/api/v1/namespaces?dryRun=Some",
      { "content-type": "application/json" },
      JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "beta-odd" } }),
    );
    expect(odd.status).toBe(422);
    expect(odd.json<{ message: string }>().message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"',
    );
    expect((await admin("get", "namespace", "beta-odd")).code).toBe(1);
    // The spaces API takes dryRun=All too.
    const viaApi = await api(bob, "POST", "/clusters/cluster-1/spaces?dryRun=All", {
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "Space",
      metadata: { name: "beta-api" },
      spec: { tenant: "beta" },
    });
    expect(viaApi.status).toBe(201);
    expect(viaApi.json()).toEqual({
      apiVersion: "gatehouse.io/v1alpha1",
      kind: "Space",
      metadata: { name: "beta-api", labels: { "gatehouse.io/tenant": "beta" } },
      spec: { tenant: "beta", cluster: "cluster-1" },
    });
    expect((await api(bob, "GET", "/clusters/cluster-1/spaces/beta-api")).status).toBe(404);
    expect((await admin("get", "namespace", "beta-api")).code).toBe(1);
  });

  it("kubectl delete namespace --dry-run=server deletes nothing, and only the owner may ask", async () => {
    const r = await k(alice, "delete", "namespace", "acme-four", "--dry-run=server");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('namespace "acme-four" deleted (server dry run)\n');
    // The query form, without a body, is a dry run too.
    const q = await gw(alice, "DELETE", "/api/v1/namespaces/acme-four?dryRun=All");
    expect(q.status).toBe(200);
    const bad = await gw(
      alice,
      "DELETE",
      "/api/v1/namespaces/acme-four",
      { "content-type": "application/json" },
      JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", dryRun: ["Nope"] }),
    );
    expect(bad.status).toBe(422);
    expect(bad.json<{ details: { kind: string } }>().details.kind).toBe("DeleteOptions");
    expect((await admin("get", "namespace", "acme-four", "-o", "jsonpath={.status.phase}")).stdout).toBe(
      "Active",
    );
    const spaces = await api(alice, "GET", "/spaces?tenant=acme");
    expect(
      spaces.json<{ items: { metadata: { name: string } }[] }>().items.map((s) => s.metadata.name),
    ).toContain("acme-four");
    // A failed precondition from the cluster leaves the space alone too.
    const wrongUid = await gw(
      alice,
      "DELETE",
      "/api/v1/namespaces/acme-four",
      { "content-type": "application/json" },
      JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "not-the-uid" } }),
    );
    expect(wrongUid.status).toBe(409);
    expect((await admin("get", "namespace", "acme-four", "-o", "jsonpath={.status.phase}")).stdout).toBe(
      "Active",
    );
    const viaApi = await api(alice, "DELETE", "/clusters/cluster-1/spaces/acme-four?dryRun=All");
    expect(viaApi.status).toBe(200);
    expect((await api(alice, "GET", "/clusters/cluster-1/spaces/acme-four")).status).toBe(200);
    expect((await admin("get", "namespace", "acme-four", "-o", "jsonpath={.status.phase}")).stdout).toBe(
      "Active",
    );
    // Another tenant's owner: the normal path, forbidden, dry run or not.
    const other = await k(bob, "delete", "namespace", "acme-four", "--dry-run=server");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('User "bob" cannot delete resource "namespaces"');
    // And the real delete still works.
    expect((await k(alice, "delete", "namespace", "acme-four", "--wait=false")).code).toBe(0);
    const left = await api(alice, "GET", "/spaces?tenant=acme");
    expect(
      left.json<{ items: { metadata: { name: string } }[] }>().items.map((s) => s.metadata.name),
    ).not.toContain("acme-four");
  });

  it("owners and members read their own Tenant, through the API and gatehouse tenant get/list, never another's", async () => {
    const mine = await api(alice, "GET", "/tenants/acme");
    expect(mine.status).toBe(200);
    expect(mine.json<{ spec: { maxSpaces: number } }>().spec.maxSpaces).toBe(4);
    for (const [who, name] of [
      [alice, "beta"],
      [alice, "no-such-tenant"],
      [bob, "acme"],
      [dave, "acme"],
    ] as const) {
      const r = await api(who, "GET", `/tenants/${name}`);
      expect(r.status).toBe(403);
      expect(r.json<{ reason: string }>().reason).toBe("Forbidden");
    }
    const names = async (who: Who) =>
      (await api(who, "GET", "/tenants"))
        .json<{ items: { metadata: { name: string } }[] }>()
        .items.map((t) => t.metadata.name);
    expect(await names(alice)).toEqual(["acme"]);
    expect(await names(bob)).toEqual(["beta"]);
    expect(await names(dave)).toEqual([]);
    const all = await call(fx.gh.url, fx.ca, "GET", "/apis/gatehouse.io/v1alpha1/tenants", {
      auth: fx.admin,
    });
    expect(all.json<{ items: unknown[] }>().items).toHaveLength(2);
    // Reading is all: an owner still cannot change or delete their Tenant.
    const body = mine.json<{ spec: Record<string, unknown> }>();
    const put = await api(alice, "PUT", "/tenants/acme", { ...body, spec: { ...body.spec, maxSpaces: 99 } });
    expect(put.status).toBe(403);
    expect((await api(alice, "DELETE", "/tenants/acme")).status).toBe(403);

    // A member through a team, with the command line.
    const get = await cliAs("erin", erinPassword, "tenant", "get", "acme", "-o", "json");
    expect(get.stderr).toBe("");
    expect(JSON.parse(get.stdout).metadata.name).toBe("acme");
    const list = await cliAs("erin", erinPassword, "tenant", "list");
    expect(list.stdout).toMatch(/^NAME\s+OWNERS\s+CLUSTERS\s+SPACES\n/);
    expect(list.stdout).toMatch(/\nacme\s+User\/alice\s+cluster-1\s+\d\/4\n$/);
    const other = await cliAs("erin", erinPassword, "tenant", "get", "beta");
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('cannot get resource "tenants"');
  });

  it("kubectl create namespace retries by itself when the store is busy (503 with Retry-After) and then succeeds", async () => {
    // Another connection holds the store's write lock: the space's reservation waits out busy_timeout
    // (5 s, the event loop with it) and is answered 503 with Retry-After; kubectl waits and sends again.
    const other = new BetterSqlite3(join(fx.dir, "gatehouse.db"));
    try {
      other.pragma("busy_timeout = 0");
      other.exec("begin immediate");
      const run = kubectlStream([
        "--kubeconfig",
        alice.kubeconfig,
        "--context",
        "cluster-1",
        "create",
        "namespace",
        "acme-retry",
        "-v=6",
      ]);
      // Let go once kubectl has had its 503 (this runs between the store's blocking waits).
      await until("kubectl's 503", () => / 503 Service Unavailable /.test(run.err()), 60_000);
      other.exec("rollback");
      await until("kubectl to finish", () => run.code() !== undefined, 60_000);
      expect(run.code(), run.err()).toBe(0);
      expect(run.out()).toContain("namespace/acme-retry created");
    } finally {
      other.close();
    }
    expect((await admin("get", "namespace", "acme-retry", "-o", "jsonpath={.status.phase}")).stdout).toBe(
      "Active",
    );
    expect((await api(alice, "GET", "/clusters/cluster-1/spaces/acme-retry")).status).toBe(200);
  }, 120_000);
});
