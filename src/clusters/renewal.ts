import type { KeyRing } from "../secrets/index.js";
import type { Store, StoredObject } from "../store/index.js";
import { StoreError } from "../store/index.js";
import { sealCredentials, storedCredentialsOf } from "./credentials.js";
import { IMPERSONATOR } from "./impersonator.js";
import { KubeApiError, KubeClient } from "./kube-client.js";
import { toTarget } from "./registry.js";
import { renewalDueAt, requestServiceAccountToken, unverifiedTokenTimes, type TokenTimes } from "./token.js";
import { CLUSTER_KIND, type ClusterStatus, type ImpersonatorStatus } from "./types.js";

/** What one renewal attempt came to. */
export type RenewalOutcome =
  /** Not a bootstrapped impersonator token, or its lifetime is unknown: nothing to renew. */
  | { kind: "unmanaged" }
  | { kind: "notDue"; dueAt: number; expiresAt: number }
  | { kind: "renewed"; expirationTimestamp: string }
  /** Another replica (or an admin) replaced the token while this one was asking: theirs stays. */
  | { kind: "superseded" }
  /** `message` says why and what to do; it is for the health status and the log. */
  | { kind: "failed"; message: string; expiresAt: number };

export interface TokenRenewerOptions {
  now: () => number;
  /** Per request to a cluster. */
  timeoutMs: number;
  /** After a failure, wait this long before asking that cluster again (the failure is still reported); default 5 min. */
  retryMs?: number;
}

export interface TokenRenewer {
  /** Renew the cluster's stored token if two thirds of its lifetime have passed; never throws for cluster errors. */
  renew(name: string): Promise<RenewalOutcome>;
}

const WRITE_ATTEMPTS = 5;

/**
 * Renewal of the impersonator's token with the token itself (the bootstrap's Role
 * `gatehouse:token-renewer` allows exactly that). Every decision is taken from the stored row, not a
 * cache: the token's `iat`/`exp` (read unverified, for scheduling only) or, failing that,
 * `status.impersonator`. The new token is sealed as `cluster add` seals it and written with the
 * row's resourceVersion: when replicas race, one write wins; the others re-read, find the sealed
 * credential changed and drop their token (still valid until it expires, but stored nowhere).
 */
export function createTokenRenewer(store: Store, keyRing: KeyRing, opts: TokenRenewerOptions): TokenRenewer {
  const retryMs = opts.retryMs ?? 5 * 60_000;
  const failures = new Map<string, { at: number; outcome: RenewalOutcome & { kind: "failed" } }>();
  return {
    async renew(name) {
      const row = await store.objects.get({ kind: CLUSTER_KIND, namespace: "", name });
      const plan = row && planRenewal(row, keyRing);
      if (!row || !plan) {
        failures.delete(name);
        return { kind: "unmanaged" };
      }
      const now = opts.now();
      const dueAt = renewalDueAt(plan.times);
      if (now < dueAt) {
        failures.delete(name);
        return { kind: "notDue", dueAt, expiresAt: plan.times.expiresAt };
      }
      const last = failures.get(name);
      if (last && now - last.at < retryMs) return last.outcome;
      const outcome = await renewRow(store, keyRing, row, plan, opts);
      if (outcome.kind === "failed") failures.set(name, { at: now, outcome });
      else failures.delete(name);
      return outcome;
    },
  };
}

interface Plan {
  token: string;
  times: TokenTimes;
  expirationSeconds: number;
  serviceAccount: { namespace: string; name: string };
}

/** What renewal needs from a stored Cluster, or undefined when it is not a renewable impersonator token. */
function planRenewal(row: StoredObject, keyRing: KeyRing): Plan | undefined {
  const imp = ((row.body["status"] ?? {}) as ClusterStatus).impersonator;
  const stored = storedCredentialsOf(row.body);
  if (!imp?.serviceAccount || stored?.type !== "token") return undefined;
  const [namespace, name] = imp.serviceAccount.split("/");
  if (!namespace || !name) return undefined;
  let token: string | undefined;
  try {
    token = toTarget(row, keyRing).token;
  } catch {
    return undefined; // the health check reports credentials that do not open
  }
  if (token === undefined) return undefined;
  const times = unverifiedTokenTimes(token) ?? timesFromStatus(imp);
  if (!times) return undefined;
  const expirationSeconds =
    imp.tokenExpirationSeconds ?? Math.round((times.expiresAt - times.issuedAt) / 1000);
  return {
    token,
    times,
    expirationSeconds: Math.max(600, expirationSeconds),
    serviceAccount: { namespace, name },
  };
}

function timesFromStatus(imp: ImpersonatorStatus): TokenTimes | undefined {
  const expiresAt = Date.parse(imp.tokenExpirationTimestamp ?? "");
  const seconds = imp.tokenExpirationSeconds;
  if (Number.isNaN(expiresAt) || seconds === undefined) return undefined;
  return { issuedAt: expiresAt - seconds * 1000, expiresAt };
}

async function renewRow(
  store: Store,
  keyRing: KeyRing,
  row: StoredObject,
  plan: Plan,
  opts: TokenRenewerOptions,
): Promise<RenewalOutcome> {
  const target = toTarget(row, keyRing);
  // The token by itself, never impersonating: TokenRequest is the one thing it may do on its own.
  const client = new KubeClient(
    {
      contextName: target.name,
      server: target.server,
      insecureSkipTLSVerify: target.insecureSkipTLSVerify,
      ...(target.caPem !== undefined ? { caPem: target.caPem } : {}),
      token: plan.token,
    },
    { timeoutMs: opts.timeoutMs, userAgent: "gatehouse-token-renewal" },
  );
  let issued;
  try {
    issued = await requestServiceAccountToken(client, plan.serviceAccount, plan.expirationSeconds);
  } catch (e) {
    return { kind: "failed", message: failureMessage(e, plan), expiresAt: plan.times.expiresAt };
  } finally {
    client.close();
  }
  const credentials = sealCredentials(keyRing, row.name, { token: issued.token });
  const renewedAt = new Date(opts.now()).toISOString();
  const key = { kind: CLUSTER_KIND, namespace: "", name: row.name };
  let current = row;
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const spec = (current.body["spec"] ?? {}) as Record<string, unknown>;
    const status = (current.body["status"] ?? {}) as ClusterStatus;
    const impersonator: ImpersonatorStatus = {
      ...status.impersonator,
      tokenExpirationTimestamp: issued.expirationTimestamp,
      tokenExpirationSeconds: plan.expirationSeconds,
      renewedAt,
    };
    try {
      await store.objects.update(
        key,
        { ...current.body, spec: { ...spec, credentials }, status: { ...status, impersonator } },
        current.resourceVersion,
      );
      return { kind: "renewed", expirationTimestamp: issued.expirationTimestamp };
    } catch (e) {
      if (!(e instanceof StoreError && (e.code === "Conflict" || e.code === "NotFound"))) throw e;
    }
    const again = await store.objects.get(key);
    // Removed, re-pointed, or given another credential (a renewal by another replica, a re-bootstrap):
    // the token just made must not overwrite it.
    if (!again || sealedOf(again) !== sealedOf(row) || specServer(again) !== specServer(row))
      return { kind: "superseded" };
    current = again; // only status moved (a health check): write again on top of it
  }
  return {
    kind: "failed",
    message: "the renewed token could not be stored: the cluster object kept changing",
    expiresAt: plan.times.expiresAt,
  };
}

function sealedOf(row: StoredObject): string | undefined {
  return storedCredentialsOf(row.body)?.ciphertext;
}

function specServer(row: StoredObject): unknown {
  return (row.body["spec"] as Record<string, unknown> | undefined)?.["server"];
}

function failureMessage(e: unknown, plan: Plan): string {
  const sa = `${plan.serviceAccount.namespace}/${plan.serviceAccount.name}`;
  if (e instanceof KubeApiError && e.kind === "http" && e.httpCode === 403)
    return `the cluster refused to renew the token (403 Forbidden): ${sa} lacks the Role ${IMPERSONATOR.tokenRenewer} (clusters bootstrapped before Gatehouse renewed tokens do not have it)`;
  if (e instanceof KubeApiError && e.kind === "http" && e.httpCode === 401)
    return "the cluster rejected the token when asked to renew it (401 Unauthorized): it has expired or was revoked";
  return `the token could not be renewed: ${e instanceof Error ? e.message : String(e)}`;
}

/** The advice that goes with every renewal failure: a fresh bootstrap with an admin kubeconfig. */
export function renewalAdvice(cluster: string): string {
  return `re-run \`gatehouse cluster add ${cluster} --kubeconfig ADMIN_KUBECONFIG --replace\``;
}
