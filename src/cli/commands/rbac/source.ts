/**
 * Where `gatehouse rbac` commands get RBAC objects: files and folders (--objects), or a live cluster
 * (--kubeconfig / --context). Everything is read and validated before a command prints anything.
 */
import { Option, type Command } from "commander";
import { ParseError, type SourcedObject } from "../../../core/k8s/index.js";
import { parseRbacObjects, settleObjects, type RbacObject } from "../../../core/rbac/index.js";
import { KubeApiError, KubeClient } from "../../../clusters/kube-client.js";
import { defaultKubeconfigPath, KubeconfigError, loadKubeconfig } from "../../../clusters/kubeconfig.js";
import { CliError } from "../../errors.js";
import { readObjectPaths } from "../../io.js";

export interface SourceOptions {
  objects?: string[];
  kubeconfig?: string;
  context?: string;
}

export function addSourceOptions(c: Command): Command {
  return c
    .addOption(new Option("--objects <path...>", "files or folders of RBAC objects (YAML or JSON)"))
    .addOption(new Option("--kubeconfig <file>", "read RBAC objects from the cluster in this kubeconfig"))
    .addOption(new Option("--context <name>", "kubeconfig context to use (default: its current-context)"));
}

export interface LoadedPolicy {
  objects: RbacObject[];
  /** The namespace commands default to: the context's, else "default". */
  defaultNamespace: string;
  origin: "files" | "cluster";
}

/** Parse RBAC objects from documents, turning a ParseError into a usage error (exit 2). */
export function rbacObjectsFrom(docs: readonly SourcedObject[]): RbacObject[] {
  try {
    return parseRbacObjects(docs).map((o) => o.object);
  } catch (e) {
    if (e instanceof ParseError) throw new CliError(e.message);
    throw e;
  }
}

const RBAC_LISTS = ["clusterroles", "clusterrolebindings", "roles", "rolebindings"] as const;
const KINDS: Record<(typeof RBAC_LISTS)[number], string> = {
  clusterroles: "ClusterRole",
  clusterrolebindings: "ClusterRoleBinding",
  roles: "Role",
  rolebindings: "RoleBinding",
};

/** Read and validate the objects; from files, aggregated ClusterRoles are filled unless `aggregate` is false. */
export async function loadPolicy(
  opts: SourceOptions,
  how: { aggregate?: boolean } = {},
): Promise<LoadedPolicy> {
  const live = opts.kubeconfig !== undefined || opts.context !== undefined;
  if (opts.objects !== undefined && live)
    throw new CliError("use either --objects or --kubeconfig/--context, not both");
  if (opts.objects !== undefined) {
    // Hand-written files: settle duplicates and fill aggregated ClusterRoles as the cluster would.
    const objects = settleObjects(rbacObjectsFrom(readObjectPaths(opts.objects)), {
      aggregate: how.aggregate !== false,
    });
    return { objects, defaultNamespace: "default", origin: "files" };
  }
  if (!live)
    throw new CliError(
      "say where the RBAC objects are: --objects PATH... or --kubeconfig FILE [--context NAME]",
    );
  return loadFromCluster(opts.kubeconfig ?? defaultKubeconfigPath(), opts.context);
}

async function loadFromCluster(path: string, context: string | undefined): Promise<LoadedPolicy> {
  let conn;
  try {
    conn = loadKubeconfig(path, context);
  } catch (e) {
    if (e instanceof KubeconfigError) throw new CliError(e.message);
    throw e;
  }
  const client = new KubeClient(conn);
  try {
    const docs: SourcedObject[] = [];
    for (const res of RBAC_LISTS) {
      const { items } = await client.list<Record<string, unknown>>(
        `/apis/rbac.authorization.k8s.io/v1/${res}`,
      );
      items.forEach((item, i) =>
        docs.push({
          object: { ...item, apiVersion: "rbac.authorization.k8s.io/v1", kind: KINDS[res] },
          source: { file: `${conn.contextName}:${res}`, document: i + 1 },
        }),
      );
    }
    // The cluster's controller has already aggregated; take the rules it holds.
    return {
      objects: settleObjects(rbacObjectsFrom(docs), { aggregate: false }),
      defaultNamespace: conn.namespace ?? "default",
      origin: "cluster",
    };
  } catch (e) {
    if (e instanceof KubeApiError) throw new CliError(`cluster ${conn.contextName}: ${e.message}`, 3);
    throw e;
  } finally {
    client.close();
  }
}
