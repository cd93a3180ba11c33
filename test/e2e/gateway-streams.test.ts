import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { KWOK_APISERVER_ARGS, runPod, startKwok, type KwokNode } from "../harness/kwok.js";
import { freePort } from "../harness/ports.js";
import { tcpConnections } from "../harness/tcp-sockets.js";
import { kubectl } from "./kubectl.js";
import { startGatewayFixture, type GatewayFixture } from "./gateway-setup.js";

const SPDY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false", KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" };
const WEBSOCKETS = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "true", KUBECTL_PORT_FORWARD_WEBSOCKETS: "true" };

/** Connect to a local port, send a line, and return the first answer (the pod side echoes it). */
function roundTrip(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(line));
    let out = "";
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) s.end();
    });
    s.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on("error", reject);
  });
}

describe("streams through the gateway: exec, port-forward, logs -f and cp over SPDY and WebSockets", () => {
  let cluster: TestCluster;
  let kwok: KwokNode;
  let fx: GatewayFixture;
  let alice: { kubeconfig: string };
  let bob: { kubeconfig: string };
  let logsFile: string;

  beforeAll(async () => {
    [cluster] = (await startClusters(1, { extraArgs: KWOK_APISERVER_ARGS })) as [TestCluster];
    logsFile = join(cluster.dir, "container.log");
    writeFileSync(logsFile, "2026-11-28T00:00:00.000000000Z stdout F first line\n");
    // The pod's port 8080 reaches this echo server through kwok.
    kwok = await startKwok(cluster, { logsFile, portForwardTarget: await freePort() });
    await runPod(cluster, kwok.nodeName, "default", "web");
    fx = await startGatewayFixture([cluster], { "cluster-1": {} });
    alice = await fx.user("alice");
    bob = await fx.user("bob");
    await fx.bind("alice-edit", ["alice"], "edit", ["cluster-1"]);
    await fx.bind("bob-view", ["bob"], "view", ["cluster-1"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await kwok?.stop();
    await cluster?.stop();
  });

  for (const [protocol, env] of [
    ["WebSockets", WEBSOCKETS],
    ["SPDY", SPDY],
  ] as const) {
    it(`runs exec with stdin and stdout over ${protocol}`, async () => {
      const r = await kubectl(
        ["--kubeconfig", alice.kubeconfig, "exec", "web", "--", "echo", `hello over ${protocol}`],
        { env },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(`hello over ${protocol}\n`);
      // kwok's local exec does not pass stdin's end on, so read one line rather than to EOF.
      const head = await kubectl(
        ["--kubeconfig", alice.kubeconfig, "exec", "-i", "web", "--", "head", "-n", "1"],
        { env, input: "piped through stdin\n" },
      );
      expect(head.stdout).toBe("piped through stdin\n");
    });

    it(`relays a failing command's status exactly as the cluster reports it over ${protocol}`, async () => {
      // kwok reports a non-zero exit as an internal error rather than an exit code; the gateway must
      // pass on exactly what the cluster said.
      const args = ["exec", "web", "--", "sh", "-c", "exit 3"];
      const direct = await kubectl(["--kubeconfig", cluster.kubeconfigPath, ...args], { env });
      const through = await kubectl(["--kubeconfig", alice.kubeconfig, ...args], { env });
      expect(direct.code).not.toBe(0);
      expect({ code: through.code, stderr: through.stderr }).toEqual({
        code: direct.code,
        stderr: direct.stderr,
      });
    });

    it(`forwards a port over ${protocol}, both ways`, async () => {
      const local = await freePort();
      // Port 7777 of every kwok pod echoes what it receives.
      const pf = spawn(
        "kubectl",
        ["--kubeconfig", alice.kubeconfig, "port-forward", "pod/web", `${local}:7777`],
        { env: { ...process.env, ...env } },
      );
      try {
        let out = "";
        pf.stdout.on("data", (d: Buffer) => (out += d.toString()));
        const deadline = Date.now() + 15_000;
        while (!out.includes("Forwarding from") && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(out).toContain(`Forwarding from 127.0.0.1:${local} -> 7777`);
        expect(await roundTrip(local, `ping over ${protocol}\n`)).toBe(`ping over ${protocol}\n`);
        expect(await roundTrip(local, "a second connection\n")).toBe("a second connection\n");
        // The tunnel's two legs carry small frames: neither may wait for a delayed ACK (Nagle).
        const gatehousePort = Number(new URL(fx.gh.url).port);
        const clusterPort = Number(new URL(cluster.url).port);
        const conns = tcpConnections();
        const legs = conns.filter((c) => c.localPort === gatehousePort || c.remotePort === clusterPort);
        expect(legs.some((c) => c.localPort === gatehousePort)).toBe(true);
        expect(legs.some((c) => c.remotePort === clusterPort)).toBe(true);
        expect(legs.filter((c) => !c.noDelay)).toEqual([]);
      } finally {
        pf.kill();
      }
    });
  }

  it("prints logs and follows them (logs -f) as lines are written", async () => {
    const r = await kubectl(["--kubeconfig", alice.kubeconfig, "logs", "web"]);
    expect(r.stdout).toBe("first line\n");
    const f = spawn("kubectl", ["--kubeconfig", alice.kubeconfig, "logs", "-f", "web"]);
    let out = "";
    f.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((res) => setTimeout(res, 1500));
      appendFileSync(logsFile, "2026-11-28T00:00:05.000000000Z stdout F a later line\n");
      const deadline = Date.now() + 10_000;
      while (!out.includes("a later line") && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 100));
      expect(out).toContain("first line\n");
      expect(out).toContain("a later line\n");
    } finally {
      f.kill();
    }
  });

  it("attaches to a running container and streams its output", async () => {
    // kwok's attach streams what the container writes from now on (lines appended to its log file).
    const a = spawn("kubectl", ["--kubeconfig", alice.kubeconfig, "attach", "web", "-c", "app"]);
    let out = "";
    a.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((res) => setTimeout(res, 2000));
      appendFileSync(logsFile, "2026-11-28T00:00:09.000000000Z stdout F written while attached\n");
      const deadline = Date.now() + 10_000;
      while (!out.includes("written while attached") && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 100));
      expect(out).toContain("written while attached\n");
    } finally {
      a.kill();
    }
  });

  it("copies a file out of the pod with kubectl cp", async () => {
    writeFileSync(join(cluster.dir, "kwok", "inside.txt"), "copied content\n");
    const dest = join(cluster.dir, "copied.txt");
    const r = await kubectl(["--kubeconfig", alice.kubeconfig, "cp", "web:inside.txt", dest]);
    expect(r.stderr).toBe("");
    expect(readFileSync(dest, "utf8")).toBe("copied content\n");
  });

  it("denies exec and port-forward centrally to a user who may only view", async () => {
    const pf = await kubectl([
      "--kubeconfig",
      bob.kubeconfig,
      "port-forward",
      "pod/web",
      "0:7777",
      "--pod-running-timeout=5s",
    ]);
    expect(pf.stderr).toContain(
      'pods "web" is forbidden: User "bob" cannot create resource "pods/portforward"',
    );
    const r = await kubectl(["--kubeconfig", bob.kubeconfig, "exec", "web", "--", "echo", "no"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'pods "web" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    );
    const v = await kubectl(["--kubeconfig", bob.kubeconfig, "logs", "web"]);
    expect(v.stdout).toContain("first line");
  });
});
