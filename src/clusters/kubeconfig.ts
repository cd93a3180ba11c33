/**
 * Read a kubeconfig and resolve one context to what an HTTPS client needs: server URL, CA, and
 * credentials (bearer token or client certificate). `*-data` fields are base64 as kubectl writes
 * them; file fields are read through the injected reader, relative to the kubeconfig's folder.
 *
 * Deliberately small: exec and auth-provider plugins and basic auth are refused with a clear error
 * rather than half-supported.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";

export type KubeconfigErrorCode =
  "Unreadable" | "Malformed" | "NoContext" | "UnknownContext" | "Incomplete" | "Unsupported";

export class KubeconfigError extends Error {
  constructor(
    readonly code: KubeconfigErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "KubeconfigError";
  }
}

/** What a client needs to talk to one cluster as one user. */
export interface ClusterConnection {
  contextName: string;
  server: string;
  caPem?: string;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** The context's namespace, if it names one. */
  namespace?: string;
  /** Sent as Impersonate-User on every request (Gatehouse's controllers through the impersonator). */
  impersonateUser?: string;
}

type Json = Record<string, unknown>;

export interface KubeconfigReader {
  readFile(path: string): string;
}

const fsReader: KubeconfigReader = { readFile: (p) => readFileSync(p, "utf8") };

/** The kubeconfig kubectl would use: the first $KUBECONFIG entry, else ~/.kube/config. */
export function defaultKubeconfigPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const first = (env["KUBECONFIG"] ?? "").split(":").find((p) => p !== "");
  return first ?? join(homedir(), ".kube", "config");
}

/** Read a kubeconfig file and resolve a context (its current-context when none is named). */
export function loadKubeconfig(
  path: string,
  context?: string,
  reader: KubeconfigReader = fsReader,
): ClusterConnection {
  let text: string;
  try {
    text = reader.readFile(path);
  } catch (e) {
    throw new KubeconfigError(
      "Unreadable",
      `${path}: cannot read kubeconfig: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  return resolveContext(text, path, context, reader);
}

/** Resolve a context from kubeconfig text; `path` locates relative file references and names errors. */
export function resolveContext(
  text: string,
  path: string,
  contextName?: string,
  reader: KubeconfigReader = fsReader,
): ClusterConnection {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KubeconfigError("Malformed", `${path}: invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!isObj(doc)) throw new KubeconfigError("Malformed", `${path}: not a kubeconfig`);
  const name = contextName ?? str(doc["current-context"]);
  if (!name) throw new KubeconfigError("NoContext", `${path}: no current-context set and no context named`);
  const ctx = named(doc["contexts"], name, "context");
  if (!ctx) throw new KubeconfigError("UnknownContext", `${path}: context ${JSON.stringify(name)} not found`);
  const clusterName = str(ctx["cluster"]);
  const cluster = clusterName ? named(doc["clusters"], clusterName, "cluster") : undefined;
  if (!cluster)
    throw new KubeconfigError(
      "Incomplete",
      `${path}: context ${JSON.stringify(name)} names no known cluster`,
    );
  const userName = str(ctx["user"]);
  const user = userName ? (named(doc["users"], userName, "user") ?? {}) : {};
  const server = str(cluster["server"]);
  if (!server)
    throw new KubeconfigError("Incomplete", `${path}: cluster ${JSON.stringify(clusterName)} has no server`);

  const dir = dirname(resolve(path));
  const file = (p: string): string => {
    const full = isAbsolute(p) ? p : join(dir, p);
    try {
      return reader.readFile(full);
    } catch (e) {
      throw new KubeconfigError(
        "Unreadable",
        `${path}: cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
  };
  const pem = (obj: Json, dataKey: string, fileKey: string): string | undefined => {
    const data = str(obj[dataKey]);
    if (data) return Buffer.from(data, "base64").toString("utf8");
    const f = str(obj[fileKey]);
    return f ? file(f) : undefined;
  };

  for (const k of ["exec", "auth-provider", "username", "password"]) {
    if (user[k] !== undefined)
      throw new KubeconfigError(
        "Unsupported",
        `${path}: user ${JSON.stringify(userName)} uses ${k}, which is not supported; use a token or client certificate`,
      );
  }
  const conn: ClusterConnection = {
    contextName: name,
    server: server.replace(/\/+$/, ""),
    insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
  };
  set(conn, "caPem", pem(cluster, "certificate-authority-data", "certificate-authority"));
  set(conn, "tlsServerName", str(cluster["tls-server-name"]));
  const token =
    str(user["token"]) ??
    (str(user["tokenFile"]) ? file(str(user["tokenFile"]) as string).trim() : undefined);
  set(conn, "token", token);
  set(conn, "clientCertPem", pem(user, "client-certificate-data", "client-certificate"));
  set(conn, "clientKeyPem", pem(user, "client-key-data", "client-key"));
  set(conn, "namespace", str(ctx["namespace"]));
  return Object.freeze(conn);
}

function set<K extends keyof ClusterConnection>(
  c: ClusterConnection,
  k: K,
  v: ClusterConnection[K] | undefined,
): void {
  if (v !== undefined) c[k] = v;
}

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The inner object of the `{name, <field>}` entry with that name (clusters, contexts, users lists). */
function named(list: unknown, name: string, field: string): Json | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const e of list) {
    if (isObj(e) && e["name"] === name) return isObj(e[field]) ? e[field] : {};
  }
  return undefined;
}
