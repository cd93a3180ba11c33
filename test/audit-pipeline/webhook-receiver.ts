import { createServer, type Server } from "node:https";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { ensureSelfSigned } from "../../src/server/tls.js";
import type { Event } from "../../src/core/audit/index.js";

export type ReceiverMode = "ok" | "error" | "slow";

/**
 * An audit webhook receiver over HTTPS, as a log collector would run one: it records each EventList
 * it accepts and the bearer token it was sent with. `mode` makes it answer 500, or answer after
 * `slowMs`; stop() and start() take it down and bring it back on the same port.
 */
export class WebhookReceiver {
  mode: ReceiverMode = "ok";
  slowMs = 1500;
  batches: Event[][] = [];
  tokens = new Set<string>();
  kubeconfig = "";
  private server: Server | undefined;
  private port = 0;
  private cert = { certPem: "", keyPem: "", caFile: "" };

  get events(): Event[] {
    return this.batches.flat();
  }

  async start(token = "webhook-secret"): Promise<void> {
    if (!this.cert.certPem) {
      const dir = mkdtempSync(join(tmpdir(), "gh-webhook-"));
      const c = await ensureSelfSigned(dir, "127.0.0.1", new Date());
      this.cert = { certPem: c.certPem, keyPem: c.keyPem, caFile: c.caFile ?? "" };
    }
    this.server = createServer({ cert: this.cert.certPem, key: this.cert.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const answer = (): void => {
          if (this.mode === "error") {
            res.statusCode = 500;
            res.end("{}");
            return;
          }
          this.tokens.add(String(req.headers["authorization"] ?? ""));
          const list = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { kind: string; items: Event[] };
          if (list.kind === "EventList") this.batches.push(list.items);
          res.end("{}");
        };
        if (this.mode === "slow") setTimeout(answer, this.slowMs);
        else answer();
      });
    });
    await new Promise<void>((r) => this.server?.listen(this.port, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    if (!this.kubeconfig) {
      this.kubeconfig = join(mkdtempSync(join(tmpdir(), "gh-webhook-kc-")), "webhook.kubeconfig");
      writeFileSync(
        this.kubeconfig,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters:",
          `- name: sink`,
          "  cluster:",
          `    server: https://127.0.0.1:${this.port}/audit`,
          `    certificate-authority-data: ${Buffer.from(readFileSync(this.cert.caFile)).toString("base64")}`,
          "users:",
          "- name: gh",
          "  user:",
          `    token: ${token}`,
          "contexts:",
          "- name: default",
          "  context: {cluster: sink, user: gh}",
          "current-context: default",
          "",
        ].join("\n"),
      );
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }
}
