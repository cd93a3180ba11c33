/**
 * Gatehouse turns Nagle's algorithm off on every connection it holds: with it on, the last small
 * segment of an answer (or a body written after its headers, or a keystroke in exec) waits for the
 * peer's delayed ACK, up to 40 ms; a LIST of 5,000 ConfigMaps took +40 ms through the gateway for
 * that reason alone (bench/RESULTS.md). Node's HTTP/2 server does not set TCP_NODELAY on the
 * HTTP/1.1 connections it accepts, and an https.Agent does not on the sockets it opens. The
 * kernel's own flag is read for each socket (test/harness/tcp-sockets.py).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import { startClusters, type TestCluster } from "../harness/clusters.js";
import { tcpConnections as connections } from "../harness/tcp-sockets.js";
import { startGatewayFixture, type GatewayFixture } from "./gateway-setup.js";

describe("TCP_NODELAY on the gateway's connections", { timeout: 120_000 }, () => {
  let clusters: TestCluster[];
  let fx: GatewayFixture;
  let token = "";
  beforeAll(async () => {
    clusters = await startClusters(1);
    fx = await startGatewayFixture(clusters, {});
    ({ token } = await fx.user("dana"));
    await fx.bind("dana-view", ["dana"], "view", ["cluster-1"]);
    await fx.gh.reconciler.runOnce();
  });
  afterAll(async () => {
    await fx?.gh.close();
    await Promise.all((clusters ?? []).map((c) => c.stop()));
  });

  it("is set on client connections over HTTP/1.1 and on the connections to the cluster", async () => {
    const gatehousePort = Number(new URL(fx.gh.url).port);
    const clusterPort = Number(new URL(clusters[0]!.url).port);
    // One keep-alive HTTP/1.1 connection (a Node client offers no ALPN: HTTP/1.1) that stays open after its answer, and a POST whose body
    // Gatehouse forwards over the same kind of upstream connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(fx.ca) });
    const send = (method: string, path: string, body?: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${fx.gh.url}/k8s/clusters/cluster-1${path}`,
          {
            method,
            agent,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body ? { "content-type": "application/json" } : {}),
            },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    try {
      expect(await send("GET", "/api/v1/namespaces/default/configmaps")).toBe(200);
      // Refused by the cluster's RBAC (dana may only view), after Gatehouse forwarded it.
      expect(
        await send(
          "POST",
          "/api/v1/namespaces/default/configmaps",
          JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }),
        ),
      ).toBe(403);
      const all = connections();
      const accepted = all.filter((c) => c.localPort === gatehousePort);
      const upstream = all.filter((c) => c.remotePort === clusterPort);
      expect(accepted.length).toBeGreaterThan(0);
      expect(upstream.length).toBeGreaterThan(0);
      expect(accepted.filter((c) => !c.noDelay)).toEqual([]);
      expect(upstream.filter((c) => !c.noDelay)).toEqual([]);
    } finally {
      agent.destroy();
    }
  });
});
