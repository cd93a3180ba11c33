import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

/** Where and how a webhook sink sends: read from a kubeconfig, as --audit-webhook-config-file. */
export interface WebhookTarget {
  url: string;
  ca?: Buffer;
  insecureSkipTLSVerify: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

export class WebhookConfigError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
    this.name = "WebhookConfigError";
  }
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : {});

/**
 * Read the kubeconfig of kube-apiserver's --audit-webhook-config-file: the current context's cluster
 * (server, certificate-authority[-data], insecure-skip-tls-verify) and user (token, or client
 * certificate and key). Relative file paths are relative to the kubeconfig, as kubectl reads them.
 */
export function loadWebhookTarget(file: string): WebhookTarget {
  let doc: Rec;
  try {
    doc = rec(parseYaml(readFileSync(file, "utf8")));
  } catch (e) {
    throw new WebhookConfigError(
      file,
      `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const named = (list: unknown, name: unknown, key: string): Rec => {
    const items = Array.isArray(list) ? list.map(rec) : [];
    const found = name === undefined ? items[0] : items.find((i) => i["name"] === name);
    return rec(found?.[key]);
  };
  const contexts = Array.isArray(doc["contexts"]) ? doc["contexts"] : [];
  const context = named(contexts, doc["current-context"], "context");
  const cluster = named(doc["clusters"], context["cluster"], "cluster");
  const user = named(doc["users"], context["user"], "user");
  const server = cluster["server"];
  if (typeof server !== "string" || !/^https?:\/\//.test(server))
    throw new WebhookConfigError(file, "the current context's cluster needs a server https://...");
  const base = dirname(resolve(file));
  const bytes = (dataKey: string, fileKey: string, from: Rec): Buffer | undefined => {
    const data = from[dataKey];
    if (typeof data === "string") return Buffer.from(data, "base64");
    const f = from[fileKey];
    if (typeof f !== "string") return undefined;
    try {
      return readFileSync(resolve(base, f));
    } catch (e) {
      throw new WebhookConfigError(
        file,
        `${fileKey}: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? ""}`,
      );
    }
  };
  const ca = bytes("certificate-authority-data", "certificate-authority", cluster);
  const cert = bytes("client-certificate-data", "client-certificate", user);
  const key = bytes("client-key-data", "client-key", user);
  const token = typeof user["token"] === "string" ? user["token"] : undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new WebhookConfigError(file, "give both a client certificate and a client key, or neither");
  return {
    url: server,
    insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
    ...(ca ? { ca } : {}),
    ...(token ? { token } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}
