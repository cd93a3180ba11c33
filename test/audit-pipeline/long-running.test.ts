import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Event, EventList } from "../../src/core/audit/index.js";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { KWOK_APISERVER_ARGS, runPod, startKwok, type KwokNode } from "../harness/kwok.js";
import { freePort } from "../harness/ports.js";
import { call } from "../server/client.js";
import { kubectl } from "../e2e/kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "../e2e/gateway-setup.js";

const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false", KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" };
const WEBSOCKETS = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "true", KUBECTL_PORT_FORWARD_WEBSOCKETS: "true" };

/**
 * Long-running requests are audited as kube-apiserver audits them: RequestReceived, then
 * ResponseStarted when the response head goes out (101 Switching Protocols for exec, attach and
 * port-forward; 200 for a watch), then ResponseComplete only when the stream ends, with the same
 * response code.
 */
describe("audit stages of long-running requests through the gateway (kwok pods, real kubectl)", () => {
  let cluster: TestCluster;
  let kwok: KwokNode;
  let fx: GatewayFixture;
  let alice: { kubeconfig: string };
  const running: ChildProcess[] = [];

  const events = async (query: string): Promise<Event[]> => {
    await fx.gh.audit.flush();
    const r = await call(fx.gh.url, fx.ca, "GET", `/apis/gatehouse.io/v1alpha1/auditevents?${query}`, {
      auth: fx.admin,
    });
    expect(r.status).toBe(200);
    return r.json<EventList>().items;
  };
  /** The stages of each request matching the query, by auditID, in stored order. */
  const byRequest = async (query: string): Promise<Map<string, Event[]>> => {
    const m = new Map<string, Event[]>();
    for (const e of await events(query)) m.set(e.auditID, [...(m.get(e.auditID) ?? []), e]);
    return m;
  };
  const stages = (es: Event[]): string[] => es.map((e) => `${e.stage} ${e.responseStatus?.code ?? "-"}`);
  const waitFor = async <T>(what: () => Promise<T | undefined>, label: string): Promise<T> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = await what();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const start = (args: string[], env: NodeJS.ProcessEnv = {}): { p: ChildProcess; out: () => string } => {
    const p = spawn("kubectl", ["--kubeconfig", alice.kubeconfig, ...args], {
      env: { ...process.env, ...env },
    });
    running.push(p);
    let out = "";
    p.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    return { p, out: () => out };
  };

  beforeAll(async () => {
    [cluster] = (await startClusters(1, { extraArgs: KWOK_APISERVER_ARGS })) as [TestCluster];
    const logsFile = join(cluster.dir, "container.log");
    writeFileSync(logsFile, "2026-11-28T00:00:00.000000000Z stdout F first line\n");
    kwok = await startKwok(cluster, { logsFile, portForwardTarget: await freePort() });
    await runPod(cluster, kwok.nodeName, "default", "web");
    fx = await startGatewayFixture([cluster], { "cluster-1": {} });
    alice = await fx.user("alice");
    await fx.bind("alice-edit", ["alice"], "edit", ["cluster-1"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    for (const p of running) p.kill();
    await fx?.gh.close();
    await kwok?.stop();
    await cluster?.stop();
  });

  for (const [protocol, env] of [
    ["WebSockets", WEBSOCKETS],
    ["SPDY", SPDY],
  ] as const) {
    it(`exec over ${protocol}: ResponseStarted 101 when the stream opens, ResponseComplete 101 when it ends`, async () => {
      const before = new Set((await byRequest("user=alice&resource=pods")).keys());
      const r = await kubectl(["--kubeconfig", alice.kubeconfig, "exec", "web", "--", "echo", protocol], {
        env,
      });
      expect(r.stdout).toBe(`${protocol}\n`);
      const reqs = [...(await byRequest("user=alice&resource=pods")).entries()].filter(
        ([id]) => !before.has(id),
      );
      const exec = reqs.find(([, es]) => es[0]?.objectRef?.subresource === "exec");
      expect(exec, JSON.stringify(reqs.map(([, es]) => stages(es)))).toBeDefined();
      const es = exec![1];
      expect(stages(es)).toEqual(["RequestReceived -", "ResponseStarted 101", "ResponseComplete 101"]);
      expect(es[0]).toMatchObject({
        verb: protocol === "WebSockets" ? "get" : "create",
        objectRef: { resource: "pods", namespace: "default", name: "web", subresource: "exec" },
        annotations: { "gatehouse.io/impact": "privileged" },
      });
      // As in kube-apiserver, the decision is known after RequestReceived (authorization runs later).
      expect(es[2]?.annotations?.["authorization.k8s.io/decision"]).toBe("allow");
      expect(es[2]!.stageTimestamp >= es[1]!.stageTimestamp).toBe(true);
      expect(es[1]!.requestReceivedTimestamp).toBe(es[0]!.requestReceivedTimestamp);
    });

    it(`port-forward over ${protocol}: the stream's end is recorded only when it ends`, async () => {
      const local = await freePort();
      const pf = start(["port-forward", "pod/web", `${local}:7777`], env);
      await waitFor(async () => (pf.out().includes("Forwarding from") ? true : undefined), "port-forward");
      await new Promise<void>((resolve, reject) => {
        const s = connect(local, "127.0.0.1", () => s.write("ping\n"));
        s.on("data", () => s.end());
        s.on("close", () => resolve());
        s.on("error", reject);
      });
      const open = await waitFor(async () => {
        const m = await byRequest("user=alice&resource=pods");
        return [...m.values()].find(
          (es) =>
            es[0]?.objectRef?.subresource === "portforward" &&
            !es.some((e) => e.stage === "ResponseComplete"),
        );
      }, "the open port-forward's events");
      expect(stages(open)).toEqual(["RequestReceived -", "ResponseStarted 101"]);
      pf.p.kill();
      const closed = await waitFor(async () => {
        const es = (await events(`auditID=${open[0]!.auditID}`)).filter(
          (e) => e.stage === "ResponseComplete",
        );
        return es.length > 0 ? es : undefined;
      }, "ResponseComplete after the stream ended");
      expect(closed[0]?.responseStatus?.code).toBe(101);
    });
  }

  it("watch: ResponseStarted 200 when the watch starts, ResponseComplete only when the client goes away", async () => {
    const w = start(["get", "pods", "--watch", "--output-watch-events", "-o", "name"]);
    await waitFor(async () => (w.out().includes("pod/web") ? true : undefined), "the watch's first event");
    const open = await waitFor(async () => {
      const m = await byRequest("user=alice&verb=watch&resource=pods");
      return [...m.values()].find((es) => !es.some((e) => e.stage === "ResponseComplete") && es.length >= 2);
    }, "the open watch's events");
    expect(stages(open)).toEqual(["RequestReceived -", "ResponseStarted 200"]);
    expect(open[0]).toMatchObject({ verb: "watch", objectRef: { resource: "pods", namespace: "default" } });
    w.p.kill();
    const done = await waitFor(async () => {
      const es = await events(`auditID=${open[0]!.auditID}`);
      return es.some((e) => e.stage === "ResponseComplete") ? es : undefined;
    }, "the watch's ResponseComplete");
    expect(stages(done)).toEqual(["RequestReceived -", "ResponseStarted 200", "ResponseComplete 200"]);
  });

  it("logs -f: ResponseStarted 200 at the first bytes, ResponseComplete when the follower stops", async () => {
    const f = start(["logs", "-f", "web"]);
    await waitFor(async () => (f.out().includes("first line") ? true : undefined), "the first log line");
    const open = await waitFor(async () => {
      const m = await byRequest("user=alice&resource=pods");
      return [...m.values()].find(
        (es) => es[0]?.objectRef?.subresource === "log" && !es.some((e) => e.stage === "ResponseComplete"),
      );
    }, "the open log stream's events");
    expect(stages(open)).toEqual(["RequestReceived -", "ResponseStarted 200"]);
    f.p.kill();
    const done = await waitFor(async () => {
      const es = await events(`auditID=${open[0]!.auditID}`);
      return es.some((e) => e.stage === "ResponseComplete") ? es : undefined;
    }, "the log stream's ResponseComplete");
    expect(stages(done)).toEqual(["RequestReceived -", "ResponseStarted 200", "ResponseComplete 200"]);
  });
});
