import type { Logger } from "pino";
import { parsePolicy, type Policy, type PolicySet } from "../core/audit/index.js";
import { ParseError } from "../core/k8s/index.js";
import type { Store } from "../store/index.js";

/**
 * Per-cluster audit policies: gatehouse.io/v1alpha1 `AuditPolicy` objects named after the cluster
 * they apply to, whose spec is an audit.k8s.io/v1 Policy's body (rules, omitStages,
 * omitManagedFields). A cluster's AuditPolicy replaces the global policy (--audit-policy-file) for
 * that cluster's gateway requests; clusters without one use the global policy.
 */
export const AUDIT_POLICY_KIND = "AuditPolicy";

/** The audit.k8s.io/v1 Policy an AuditPolicy's spec holds; throws ParseError naming each problem. */
export function policyFromSpec(spec: unknown, where: string): Policy {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec))
    throw new ParseError(
      { file: where, document: 1 },
      "spec: required, the body of an audit.k8s.io/v1 Policy",
    );
  return parsePolicy({
    object: { ...(spec as Record<string, unknown>), apiVersion: "audit.k8s.io/v1", kind: "Policy" },
    source: { file: where, document: 1 },
  });
}

/**
 * The policies the audit filter evaluates: the global one from the settings, and the per-cluster
 * ones read from the store into memory (the request path never waits for the store). `set` is live:
 * its `clusters` always names the newest policies. `refresh` runs after every AuditPolicy write
 * on this replica and on a timer for writes made on other replicas.
 */
export class ClusterPolicies {
  private byCluster: Readonly<Record<string, Policy>> = {};
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  readonly set: PolicySet;

  constructor(
    private readonly store: Store,
    global: Policy | undefined,
    private readonly log: Logger,
  ) {
    const current = (): Readonly<Record<string, Policy>> => this.byCluster;
    this.set = {
      ...(global ? { global } : {}),
      get clusters() {
        return current();
      },
    };
  }

  /** Read every AuditPolicy. On a store failure the policies in memory stay (logged once). */
  async refresh(): Promise<void> {
    const next: Record<string, Policy> = {};
    try {
      let cont: string | undefined;
      do {
        const page = await this.store.objects.list(AUDIT_POLICY_KIND, {
          limit: 500,
          ...(cont ? { continue: cont } : {}),
        });
        for (const o of page.items) {
          try {
            next[o.name] = policyFromSpec(o.body["spec"], `auditpolicies/${o.name}`);
          } catch (e) {
            // Validated on write, so only a hand-edited row gets here: keep the previous one.
            const prev = Object.hasOwn(this.byCluster, o.name) ? this.byCluster[o.name] : undefined;
            if (prev) next[o.name] = prev;
            this.log.error({ err: e, cluster: o.name }, "audit: stored AuditPolicy is invalid; ignored");
          }
        }
        cont = page.continue;
      } while (cont);
    } catch (e) {
      if (!this.failing)
        this.log.error({ err: e }, "audit: cannot read AuditPolicies; keeping those in memory");
      this.failing = true;
      return;
    }
    this.failing = false;
    this.byCluster = Object.freeze(next);
  }

  /** Refresh now and every `intervalMs` (other replicas' writes). */
  async start(intervalMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
