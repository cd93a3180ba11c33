import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import {
  IMPERSONATOR,
  KubeApiError,
  KubeClient,
  KubeconfigError,
  applyLabelChanges,
  bootstrapImpersonator,
  clusterObject,
  credentialsFromConnection,
  defaultKubeconfigPath,
  impersonatorManifest,
  loadKubeconfig,
  parseLabelArgs,
  unverifiedTokenTimes,
  type ClusterConnection,
  type ClusterStatus,
  type CredentialsInput,
  type ImpersonatorStatus,
} from "../../clusters/index.js";
import { addServerOptions, GatehouseClient, type ServerFlags } from "../client.js";
import { CliError } from "../errors.js";
import { formatTable, toYaml, type Output } from "../io.js";
import { outputOption } from "../program.js";

const BASE = "/apis/gatehouse.io/v1alpha1/clusters";
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

interface ClusterObject {
  metadata: {
    name: string;
    creationTimestamp?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec: { server: string; insecureSkipTLSVerify?: boolean; caData?: string; credentials?: { type?: string } };
  status?: ClusterStatus;
}

interface AddFlags extends ServerFlags {
  kubeconfig?: string;
  context?: string;
  label: string[];
  bootstrapImpersonator: boolean;
  tokenExpiration: number;
  replace?: boolean;
  requestTimeout: number;
}

/**
 * `gatehouse cluster`: register clusters with Gatehouse. `add` talks to the cluster from this machine
 * with the kubeconfig's credential, so an admin credential used to bootstrap the impersonator never
 * reaches Gatehouse; only the impersonator's token (or, with --bootstrap-impersonator=false, the
 * kubeconfig's own credential) is sent, and Gatehouse stores it encrypted.
 */
export function registerCluster(program: Command, output: Output): void {
  const cluster = program
    .command("cluster")
    .description("register Kubernetes clusters with Gatehouse: add, list, show, label, remove");
  const client = (f: ServerFlags): GatehouseClient =>
    GatehouseClient.fromFlags(f, () => readFileSync(0, "utf8"), process.env);

  addServerOptions(
    cluster
      .command("add")
      .description(
        "register a cluster from a kubeconfig; by default first create a service account that may only impersonate, and store its token",
      )
      .argument("<name>", "the cluster's name in Gatehouse (a lower-case DNS subdomain)"),
  )
    .option("--kubeconfig <file>", "kubeconfig to read (default $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context (default its current-context)")
    .option("--label <key=value>", "a label of the cluster (repeatable), e.g. env=prod", collect, [])
    .addOption(
      new Option(
        "--bootstrap-impersonator <bool>",
        `create ${IMPERSONATOR.namespace}/${IMPERSONATOR.serviceAccount} with only the right to impersonate and store its token (true); false stores the kubeconfig's own credential, which is less safe`,
      )
        .argParser(parseBool)
        .default(true),
    )
    .addOption(
      new Option("--token-expiration <duration>", "lifetime of the impersonator's token, e.g. 8760h, 90d")
        .argParser(parseDurationSeconds)
        .default(365 * 24 * 3600, "8760h"),
    )
    .option(
      "--replace",
      "the cluster is already registered: bootstrap again and replace its stored credential (same server; labels kept, --label adds)",
    )
    .addOption(
      new Option("--request-timeout <duration>", "timeout of each request to the cluster, e.g. 15s")
        .argParser(parseDurationSeconds)
        .default(15, "15s"),
    )
    .action(async (name: string, f: AddFlags) => {
      if (!NAME.test(name) || name.length > 253)
        throw new CliError(`invalid cluster name ${JSON.stringify(name)}: use a lower-case DNS subdomain`);
      const labels = labelsFromFlags(f.label);
      const gh = client(f);
      const conn = readKubeconfig(f.kubeconfig ?? defaultKubeconfigPath(), f.context);
      const existing = await getIfExists(gh, `${BASE}/${name}`);
      if (existing && !f.replace)
        throw new CliError(
          `cluster ${JSON.stringify(name)} already exists in Gatehouse; remove it first, or bootstrap it again with --replace`,
        );
      if (!existing && f.replace)
        throw new CliError(`cluster ${JSON.stringify(name)} not found; --replace needs it`);
      if (existing && existing.spec.server !== conn.server)
        throw new CliError(
          `cluster ${JSON.stringify(name)} is registered for ${existing.spec.server}, the kubeconfig points at ${conn.server}; remove it first`,
        );

      const kube = new KubeClient(conn, { timeoutMs: f.requestTimeout * 1000, userAgent: "gatehouse-cli" });
      let credentials: CredentialsInput;
      let impersonator: ImpersonatorStatus | undefined;
      try {
        await kube.getJSON("/version").catch((e: unknown) => {
          throw clusterError(e, conn);
        });
        if (f.bootstrapImpersonator) {
          const r = await bootstrapImpersonator(kube, { expirationSeconds: f.tokenExpiration }).catch(
            (e: unknown) => {
              throw clusterError(e, conn);
            },
          );
          for (const a of r.actions) output.out(`${a}\n`);
          credentials = { token: r.token };
          impersonator = {
            serviceAccount: r.serviceAccount,
            tokenExpirationTimestamp: r.expirationTimestamp,
            tokenExpirationSeconds: f.tokenExpiration,
          };
        } else {
          const own = credentialsFromConnection(conn);
          if (!own)
            throw new CliError(
              `context ${JSON.stringify(conn.contextName)} has no token or client certificate to store`,
            );
          credentials = own;
          impersonator = await recogniseImpersonator(kube, own);
        }
      } finally {
        kube.close();
      }
      const obj = clusterObject(name, labels, conn, credentials, impersonator);
      if (existing) await replaceCluster(gh, name, obj, labels);
      else await gh.call("POST", BASE, obj);
      output.out(
        `cluster/${name} ${existing ? "replaced" : "added"}${impersonator ? ` (impersonator ${impersonator.serviceAccount}, token expires ${impersonator.tokenExpirationTimestamp})` : " (with the kubeconfig's own credential)"}\n`,
      );
    });

  addServerOptions(cluster.command("list").description("list registered clusters with their health"))
    .option("-l, --selector <selector>", "only clusters whose labels match, e.g. env=prod,team in (a,b)")
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (f: ServerFlags & { output: string; selector?: string }) => {
      const gh = client(f);
      const items: ClusterObject[] = [];
      let cont = "";
      do {
        const q = new URLSearchParams({ limit: "200" });
        if (cont) q.set("continue", cont);
        if (f.selector) q.set("labelSelector", f.selector);
        const r = await gh.call("GET", `${BASE}?${q.toString()}`);
        const list = r.body as { items: ClusterObject[]; metadata: { continue?: string } };
        items.push(...list.items);
        cont = list.metadata.continue ?? "";
      } while (cont !== "");
      const whole = { apiVersion: "gatehouse.io/v1alpha1", kind: "ClusterList", metadata: {}, items };
      if (f.output === "json") return output.out(JSON.stringify(whole, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(whole));
      const now = Date.now();
      output.out(
        formatTable(
          ["NAME", "SERVER", "VERSION", "READY", "LABELS", "AGE"],
          items.map((c) => [
            c.metadata.name,
            c.spec.server,
            c.status?.kubernetesVersion ?? "<unknown>",
            readyText(c.status),
            labelText(c.metadata.labels),
            age(c.metadata.creationTimestamp, now),
          ]),
        ),
      );
    });

  addServerOptions(cluster.command("show").description("show one cluster").argument("<name>"))
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (name: string, f: ServerFlags & { output: string }) => {
      const r = await client(f).call("GET", `${BASE}/${encodeURIComponent(name)}`);
      if (f.output === "json") return output.out(JSON.stringify(r.body, null, 2) + "\n");
      if (f.output === "yaml") return output.out(toYaml(r.body));
      output.out(describe(r.body as ClusterObject));
    });

  addServerOptions(
    cluster
      .command("label")
      .description("set (KEY=VALUE) or remove (KEY-) labels of a cluster, as kubectl label")
      .argument("<name>")
      .argument("<changes...>", "KEY=VALUE to set, KEY- to remove"),
  )
    .option("--overwrite", "allow changing the value of an existing label")
    .action(async (name: string, args: string[], f: ServerFlags & { overwrite?: boolean }) => {
      let changes;
      try {
        changes = parseLabelArgs(args);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const gh = client(f);
      const path = `${BASE}/${encodeURIComponent(name)}`;
      // Optimistic: the health checker writes status now and then; a conflict is re-read and retried.
      for (let attempt = 1; ; attempt++) {
        const current = (await gh.call("GET", path)).body as ClusterObject;
        let next;
        try {
          next = applyLabelChanges(current.metadata.labels ?? {}, changes, f.overwrite === true);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
        if (!next.changed) return output.out(`cluster/${name} not labeled\n`);
        const body = { ...current, metadata: { ...current.metadata, labels: next.labels } };
        try {
          await gh.call("PUT", path, body);
          return output.out(`cluster/${name} labeled\n`);
        } catch (e) {
          if (!(e instanceof CliError && /has been modified/.test(e.message) && attempt < 5)) throw e;
        }
      }
    });

  addServerOptions(
    cluster
      .command("remove")
      .description("remove a cluster from Gatehouse (its stored credential is deleted)")
      .argument("<name>"),
  ).action(async (name: string, f: ServerFlags) => {
    const gh = client(f);
    const path = `${BASE}/${encodeURIComponent(name)}`;
    const current = (await gh.call("GET", path)).body as ClusterObject;
    await gh.call("DELETE", path);
    output.out(`cluster/${name} removed\n`);
    const sa = current.status?.impersonator?.serviceAccount;
    if (sa) {
      const [ns, n] = sa.split("/");
      output.err(
        `The service account ${sa} still exists in the cluster; to revoke its tokens run:\n  kubectl delete serviceaccount ${n} -n ${ns}\n`,
      );
    }
  });

  cluster
    .command("impersonator-manifest")
    .description("print the YAML `cluster add` applies, to apply it by hand (kubectl apply -f -)")
    .action(() => output.out(impersonatorManifest()));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseBool(v: string): boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

/** "90d", "8760h", "1h30m", "15s" → seconds. */
export function parseDurationSeconds(v: string): number {
  const unit: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  if (!/^(\d+[dhms])+$/.test(v))
    throw new InvalidArgumentError("expected a duration such as 15s, 90m, 8760h or 90d");
  let total = 0;
  for (const m of v.matchAll(/(\d+)([dhms])/g)) total += Number(m[1]) * (unit[m[2] as string] as number);
  if (total <= 0) throw new InvalidArgumentError("must be more than zero");
  return total;
}

function labelsFromFlags(args: readonly string[]): Record<string, string> {
  try {
    const c = parseLabelArgs(args);
    if (c.remove.length > 0) throw new Error(`--label takes KEY=VALUE, not ${c.remove[0]}-`);
    return c.set;
  } catch (e) {
    throw new CliError(`--label: ${(e as Error).message}`);
  }
}

function readKubeconfig(path: string, context: string | undefined): ClusterConnection {
  let conn: ClusterConnection;
  try {
    conn = loadKubeconfig(path, context);
  } catch (e) {
    if (e instanceof KubeconfigError) throw new CliError(e.message);
    throw e;
  }
  if (!conn.server.startsWith("https://"))
    throw new CliError(`${path}: the cluster's server must be an https:// URL, got ${conn.server}`);
  if (conn.tlsServerName !== undefined)
    throw new CliError(
      `${path}: tls-server-name is not supported; use a server URL that matches the certificate`,
    );
  return conn;
}

/**
 * The manual bootstrap (docs/clusters.md) gives `add` a kubeconfig with the service account's own
 * token: when the cluster says (SelfSubjectReview) that the token is Gatehouse's service account,
 * record it as the bootstrap would, so that Gatehouse renews it and its controllers impersonate.
 * Anything else, or any failure to tell, records nothing (the credential is stored as it is).
 */
async function recogniseImpersonator(
  kube: KubeClient,
  credentials: CredentialsInput,
): Promise<ImpersonatorStatus | undefined> {
  if (!("token" in credentials)) return undefined;
  const times = unverifiedTokenTimes(credentials.token);
  if (!times) return undefined;
  const { namespace, serviceAccount } = IMPERSONATOR;
  let username: unknown;
  try {
    const review = await kube.postJSON<{ status?: { userInfo?: { username?: unknown } } }>(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    );
    username = review.status?.userInfo?.username;
  } catch {
    return undefined;
  }
  if (username !== `system:serviceaccount:${namespace}:${serviceAccount}`) return undefined;
  const seconds = Math.round((times.expiresAt - times.issuedAt) / 1000);
  return {
    serviceAccount: `${namespace}/${serviceAccount}`,
    tokenExpirationTimestamp: new Date(times.expiresAt).toISOString().replace(/\.000Z$/, "Z"),
    ...(seconds >= 600 ? { tokenExpirationSeconds: seconds } : {}),
  };
}

/** The object, or undefined on a 404; anything else the server refuses is an error. */
async function getIfExists(gh: GatehouseClient, path: string): Promise<ClusterObject | undefined> {
  try {
    return (await gh.call("GET", path)).body as ClusterObject;
  } catch (e) {
    if (e instanceof CliError && / not found$/.test(e.message)) return undefined;
    throw e;
  }
}

/**
 * `add --replace`: the new server-side state (credential, impersonator status) over the current
 * object, whose labels stay (with --label's added). Optimistic: a health check that wrote status
 * meanwhile is re-read and the replace retried with the same credential.
 */
async function replaceCluster(
  gh: GatehouseClient,
  name: string,
  obj: Record<string, unknown>,
  labels: Readonly<Record<string, string>>,
): Promise<void> {
  const path = `${BASE}/${encodeURIComponent(name)}`;
  for (let attempt = 1; ; attempt++) {
    const current = (await gh.call("GET", path)).body as ClusterObject;
    const metadata = { ...current.metadata, labels: { ...(current.metadata.labels ?? {}), ...labels } };
    try {
      await gh.call("PUT", path, { ...obj, metadata });
      return;
    } catch (e) {
      if (!(e instanceof CliError && /has been modified/.test(e.message) && attempt < 5)) throw e;
    }
  }
}

/** A cluster failure as a CliError: refusals are exit 2 (fix the kubeconfig), the rest exit 3. */
function clusterError(e: unknown, conn: ClusterConnection): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof KubeApiError) {
    if (e.kind === "network" || e.kind === "decode")
      return new CliError(`cannot talk to the cluster at ${conn.server}: ${e.message}`, 3);
    if (e.httpCode === 401)
      return new CliError(`the cluster at ${conn.server} rejected the kubeconfig's credential: ${e.message}`);
    if (e.httpCode === 403)
      return new CliError(
        `the cluster at ${conn.server} refused: ${e.message}; bootstrapping needs cluster-admin (or use --bootstrap-impersonator=false)`,
      );
    if (e.httpCode === 409) return new CliError(`the cluster at ${conn.server} refused: ${e.message}`);
    return new CliError(`the cluster at ${conn.server} failed: ${e.message}`, 3);
  }
  return new CliError(
    `the cluster at ${conn.server} failed: ${e instanceof Error ? e.message : String(e)}`,
    3,
  );
}

function readyText(s: ClusterStatus | undefined): string {
  if (!s?.health) return "Unknown";
  return s.health.ready ? "True" : "False";
}

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? pairs.sort().join(",") : "<none>";
}

/** kubectl's short ages: 45s, 12m, 5h, 3d, 2y. */
export function age(created: string | undefined, now: number): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t)) return "<unknown>";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  if (s < 730 * 86400) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (365 * 86400))}y`;
}

function describe(c: ClusterObject): string {
  const s = c.status ?? {};
  const lines: [string, string][] = [
    ["Name", c.metadata.name],
    ["Server", c.spec.server],
    ["Labels", labelText(c.metadata.labels)],
    [
      "CA",
      c.spec.caData
        ? "given"
        : c.spec.insecureSkipTLSVerify
          ? "NOT VERIFIED (insecureSkipTLSVerify)"
          : "system roots",
    ],
    ["Credentials", `${c.spec.credentials?.type ?? "unknown"} (encrypted at rest)`],
    ["Impersonator", s.impersonator?.serviceAccount ?? "<none: the kubeconfig's own credential is stored>"],
  ];
  if (s.impersonator?.tokenExpirationTimestamp)
    lines.push(["Token expires", s.impersonator.tokenExpirationTimestamp]);
  if (s.impersonator?.renewedAt) lines.push(["Token renewed", s.impersonator.renewedAt]);
  lines.push(["Kubernetes version", s.kubernetesVersion ?? "<unknown>"]);
  lines.push(["Ready", readyText(s)]);
  if (s.health) {
    lines.push(["Health", s.health.message]);
    lines.push(["Last checked", s.health.lastChecked]);
  }
  lines.push(["Created", c.metadata.creationTimestamp ?? ""]);
  const w = Math.max(...lines.map(([k]) => k.length)) + 1;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(w)}  ${v}`).join("\n") + "\n";
}
