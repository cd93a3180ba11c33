import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError, KubeClient } from "./kube-client.js";

let server: Server;
let base = "";
const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = "";
    req.on("data", (c: Buffer) => (s += c.toString()));
    req.on("end", () => resolve(s));
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void body(req).then((b) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body: b });
      const url = new URL(req.url ?? "/", "http://x");
      res.setHeader("Content-Type", "application/json");
      if (url.pathname === "/prefix/api/v1/pods") {
        const page = url.searchParams.get("continue");
        const items = page === null ? [{ n: 1 }, { n: 2 }] : [{ n: 3 }];
        res.end(
          JSON.stringify({
            items,
            metadata: { continue: page === null ? "next page" : "", resourceVersion: "42" },
          }),
        );
      } else if (url.pathname === "/prefix/forbidden") {
        res.statusCode = 403;
        res.end(
          JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            message: "nope",
            reason: "Forbidden",
            code: 403,
          }),
        );
      } else if (url.pathname === "/prefix/text") {
        res.end("not json");
      } else {
        res.end(JSON.stringify({ echo: b === "" ? null : (JSON.parse(b) as unknown) }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = () =>
  new KubeClient(
    { contextName: "t", server: base, insecureSkipTLSVerify: false, token: "tok" },
    { pageSize: 2 },
  );

describe("kube-client", () => {
  it("follows continue tokens until the list is complete, keeping the server's path prefix", async () => {
    const c = client();
    const r = await c.list<{ n: number }>("/api/v1/pods");
    c.close();
    expect(r).toEqual({ items: [{ n: 1 }, { n: 2 }, { n: 3 }], resourceVersion: "42" });
    const urls = seen.filter((s) => s.url.startsWith("/prefix/api/v1/pods")).map((s) => s.url);
    expect(urls).toEqual(["/prefix/api/v1/pods?limit=2", "/prefix/api/v1/pods?limit=2&continue=next%20page"]);
  });

  it("posts JSON with the bearer token", async () => {
    const c = client();
    expect(await c.postJSON("/apis/x", { a: 1 })).toEqual({ echo: { a: 1 } });
    c.close();
    expect(seen.at(-1)).toMatchObject({ method: "POST", auth: "Bearer tok" });
  });

  it("maps an error response to a KubeApiError carrying the code and the Status", async () => {
    const c = client();
    const e = await c.getJSON("/forbidden").catch((x: unknown) => x);
    c.close();
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({
      kind: "http",
      httpCode: 403,
      status: { reason: "Forbidden", message: "nope" },
    });
  });

  it("reports a body that is not JSON, and a server that does not answer", async () => {
    const c = client();
    await expect(c.getJSON("/text")).rejects.toMatchObject({ kind: "decode" });
    c.close();
    const dead = new KubeClient({
      contextName: "t",
      server: "http://127.0.0.1:1",
      insecureSkipTLSVerify: false,
    });
    await expect(dead.getJSON("/")).rejects.toMatchObject({ kind: "network" });
    dead.close();
  });
});
