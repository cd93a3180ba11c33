import type { Store } from "../../store/index.js";
import type { RequestAttributes, UserInfo } from "../../core/k8s/index.js";
import {
  clusterVisibleTo,
  compileForCluster,
  teamGroupsFor,
  type AccessBinding,
  type AccessRole,
  type ClusterFacts,
  type Team,
} from "../../core/access/index.js";
import {
  buildIndex,
  RBAC_GROUP,
  type Decision,
  type RbacIndex,
  type RbacObject,
} from "../../core/rbac/index.js";

/** What every signed-in user may do on a cluster they can see: discovery and self-reviews (system:basic-user, system:discovery). */
const BASELINE: RbacObject[] = [
  {
    kind: "ClusterRole",
    apiVersion: `${RBAC_GROUP}/v1`,
    metadata: { name: "gatehouse-builtin:baseline" },
    rules: [
      {
        verbs: ["get"],
        nonResourceURLs: [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/readyz",
          "/version",
          "/version/",
          "/openapi",
          "/openapi/*",
        ],
      },
      {
        verbs: ["create"],
        apiGroups: ["authorization.k8s.io"],
        resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
      },
      { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
    ],
  },
  {
    kind: "ClusterRoleBinding",
    apiVersion: `${RBAC_GROUP}/v1`,
    metadata: { name: "gatehouse-builtin:baseline" },
    subjects: [{ kind: "Group", apiGroup: RBAC_GROUP, name: "system:authenticated" }],
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: "gatehouse-builtin:baseline" },
  },
];

interface Snapshot {
  teams: Team[];
  roles: AccessRole[];
  bindings: AccessBinding[];
  perCluster: Map<string, { labelsKey: string; index: RbacIndex }>;
}

/**
 * Central authorization state: teams, roles and access bindings from the store, compiled per cluster
 * into an RBAC index on first use. Any write to those kinds drops the snapshot (invalidate); a timer
 * also refreshes it so that replicas sharing PostgreSQL converge.
 */
export class AccessEvaluator {
  private snapshot: Promise<Snapshot> | undefined;

  constructor(private readonly store: Store) {}

  invalidate(): void {
    this.snapshot = undefined;
  }

  private load(): Promise<Snapshot> {
    this.snapshot ??= (async () => {
      const all = async <T>(
        kind: string,
        f: (body: Record<string, unknown>, name: string) => T,
      ): Promise<T[]> => {
        const out: T[] = [];
        let cont: string | undefined;
        do {
          const page = await this.store.objects.list(kind, {
            limit: 500,
            ...(cont ? { continue: cont } : {}),
          });
          out.push(...page.items.map((o) => f(o.body, o.name)));
          cont = page.continue;
        } while (cont);
        return out;
      };
      const spec = (b: Record<string, unknown>): Record<string, unknown> =>
        (b["spec"] ?? {}) as Record<string, unknown>;
      const teams = await all("Team", (b, name) => ({
        name,
        users: (spec(b)["users"] ?? []) as string[],
        groups: (spec(b)["groups"] ?? []) as string[],
      }));
      const roles = await all("AccessRole", (b, name) => ({
        name,
        rules: (spec(b)["rules"] ?? []) as AccessRole["rules"],
      }));
      const bindings = await all("AccessBinding", (b, name) => ({
        name,
        ...(spec(b) as Omit<AccessBinding, "name">),
      }));
      return { teams, roles, bindings, perCluster: new Map() };
    })().catch((e: unknown) => {
      this.snapshot = undefined;
      throw e;
    });
    return this.snapshot;
  }

  /** The user as the gateway authorizes them: their groups plus the teams they belong to. */
  async withTeams(user: UserInfo): Promise<UserInfo> {
    const s = await this.load();
    const extra = teamGroupsFor(user, s.teams).filter((g) => !user.groups.includes(g));
    return extra.length === 0 ? user : { ...user, groups: [...user.groups, ...extra] };
  }

  /** Whether any binding on this cluster names the user; clusters nobody bound you to do not exist for you. */
  async visible(user: UserInfo, cluster: ClusterFacts): Promise<boolean> {
    const s = await this.load();
    return clusterVisibleTo(user, s.bindings, cluster);
  }

  /** The RBAC objects the cluster itself should hold for the bindings that apply to it (the second gate). */
  async desiredFor(cluster: ClusterFacts): Promise<RbacObject[]> {
    const s = await this.load();
    return compileForCluster({ bindings: s.bindings, roles: s.roles, cluster });
  }

  async authorize(cluster: ClusterFacts, attrs: RequestAttributes): Promise<Decision> {
    const s = await this.load();
    const labelsKey = JSON.stringify(Object.entries(cluster.labels).sort());
    let entry = s.perCluster.get(cluster.name);
    if (!entry || entry.labelsKey !== labelsKey) {
      entry = {
        labelsKey,
        index: buildIndex([
          ...BASELINE,
          ...compileForCluster({ bindings: s.bindings, roles: s.roles, cluster }),
        ]),
      };
      s.perCluster.set(cluster.name, entry);
    }
    return entry.index.authorize(attrs);
  }
}
