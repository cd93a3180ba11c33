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
  /** Kind/name/resourceVersion of every object read: equal fingerprints mean nothing changed. */
  fingerprint: string;
  perCluster: Map<string, { labelsKey: string; index: RbacIndex }>;
  /** Per user (name and groups): the team groups to add. */
  teamGroups: BoundedMap<string[]>;
  /** Per user and cluster: whether any binding names them there. */
  visible: BoundedMap<boolean>;
}

/** A Map that forgets everything when it grows past its bound (the snapshot is rebuilt often anyway). */
class BoundedMap<V> extends Map<string, V> {
  constructor(private readonly bound: number) {
    super();
  }
  override set(k: string, v: V): this {
    if (this.size >= this.bound) this.clear();
    return super.set(k, v);
  }
}

const CACHE_BOUND = 10_000;

function userKey(u: UserInfo): string {
  return u.groups.length === 0 ? u.username : `${u.username}\u0000${u.groups.join("\u0000")}`;
}

/** Cluster labels as a comparable key; clusters are frozen objects, so it is computed once per object. */
const labelKeys = new WeakMap<ClusterFacts["labels"], string>();
function labelsKeyOf(labels: ClusterFacts["labels"]): string {
  let k = labelKeys.get(labels);
  if (k === undefined) {
    k = JSON.stringify(Object.entries(labels).sort());
    labelKeys.set(labels, k);
  }
  return k;
}

/**
 * Central authorization state: teams, roles and access bindings from the store, compiled per cluster
 * into an RBAC index on first use. A write on this replica drops the snapshot at once (invalidate);
 * refresh(), run periodically, re-reads the store so that replicas sharing PostgreSQL converge, and
 * keeps the current snapshot (with its compiled indexes and caches) when nothing changed.
 */
export class AccessEvaluator {
  private snapshot: Promise<Snapshot> | undefined;
  private generation = 0;

  constructor(private readonly store: Store) {}

  invalidate(): void {
    this.generation++;
    this.snapshot = undefined;
  }

  /** Re-read the store off the request path; swap the snapshot only if something changed. */
  async refresh(): Promise<void> {
    const current = this.snapshot;
    if (!current) return;
    const gen = this.generation;
    const [old, fresh] = await Promise.all([current, this.read()]);
    if (gen !== this.generation || this.snapshot !== current) return;
    if (fresh.fingerprint !== old.fingerprint) this.snapshot = Promise.resolve(fresh);
  }

  private load(): Promise<Snapshot> {
    if (this.snapshot) return this.snapshot;
    const p = this.read();
    this.snapshot = p;
    p.catch(() => {
      if (this.snapshot === p) this.snapshot = undefined;
    });
    return p;
  }

  private async read(): Promise<Snapshot> {
    const seen: string[] = [];
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
        for (const o of page.items) {
          seen.push(`${kind}/${o.name}/${o.resourceVersion}`);
          out.push(f(o.body, o.name));
        }
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
    return {
      teams,
      roles,
      bindings,
      fingerprint: seen.join("\n"),
      perCluster: new Map(),
      teamGroups: new BoundedMap(CACHE_BOUND),
      visible: new BoundedMap(CACHE_BOUND),
    };
  }

  /** The user as the gateway authorizes them: their groups plus the teams they belong to. */
  async withTeams(user: UserInfo): Promise<UserInfo> {
    const s = await this.load();
    const key = userKey(user);
    let extra = s.teamGroups.get(key);
    if (extra === undefined) {
      extra = teamGroupsFor(user, s.teams).filter((g) => !user.groups.includes(g));
      s.teamGroups.set(key, extra);
    }
    return extra.length === 0 ? user : { ...user, groups: [...user.groups, ...extra] };
  }

  /** Whether any binding on this cluster names the user; clusters nobody bound you to do not exist for you. */
  async visible(user: UserInfo, cluster: ClusterFacts): Promise<boolean> {
    const s = await this.load();
    const key = `${cluster.name}\u0000${labelsKeyOf(cluster.labels)}\u0000${userKey(user)}`;
    let v = s.visible.get(key);
    if (v === undefined) {
      v = clusterVisibleTo(user, s.bindings, cluster);
      s.visible.set(key, v);
    }
    return v;
  }

  /** The RBAC objects the cluster itself should hold for the bindings that apply to it (the second gate). */
  async desiredFor(cluster: ClusterFacts): Promise<RbacObject[]> {
    const s = await this.load();
    return compileForCluster({ bindings: s.bindings, roles: s.roles, cluster });
  }

  async authorize(cluster: ClusterFacts, attrs: RequestAttributes): Promise<Decision> {
    const s = await this.load();
    const labelsKey = labelsKeyOf(cluster.labels);
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
