import {
  failure,
  forbidden,
  type RequestAttributes,
  type Status,
  type UserInfo,
} from "../../core/k8s/index.js";
import type { Decision } from "../../core/rbac/index.js";

/** One thing the caller asks to act as, with the authorization check kube-apiserver makes for it. */
interface ImpersonationRequest {
  attrs: Omit<Extract<RequestAttributes, { kind: "resource" }>, "user">;
}

export type ImpersonationResult =
  { kind: "none" } | { kind: "impersonate"; user: UserInfo } | { kind: "error"; status: Status };

const SA_PREFIX = "system:serviceaccount:";

/** Header values as distinct entries (req.headersDistinct): Node would otherwise join repeats with ", ". */
type DistinctHeaders = Readonly<Record<string, string[] | undefined>>;

/**
 * kube-apiserver's impersonation filter (endpoints/filters/impersonation.go), evaluated against central
 * authorization: every requested user, uid, group and extra needs `impersonate` on it. Returns the
 * identity to act as, or the Status to answer with. As Go's Header.Get, a repeated Impersonate-User
 * or Impersonate-Uid counts by its first value; every Impersonate-Group value counts.
 */
export async function checkImpersonation(
  headers: DistinctHeaders,
  actor: UserInfo,
  authorize: (a: RequestAttributes) => Promise<Decision>,
): Promise<ImpersonationResult> {
  const username = headers["impersonate-user"]?.[0] ?? "";
  const uid = headers["impersonate-uid"]?.[0] ?? "";
  const groups = [...(headers["impersonate-group"] ?? [])];
  const extra: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (!name.startsWith("impersonate-extra-")) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice("impersonate-extra-".length)).toLowerCase();
    } catch {
      return {
        kind: "error",
        status: failure("BadRequest", `invalid impersonation extra header ${JSON.stringify(name)}`),
      };
    }
    extra[key] = [...(extra[key] ?? []), ...(v ?? [])];
  }
  const hasUser = headers["impersonate-user"] !== undefined;
  const hasOther =
    groups.length > 0 || Object.keys(extra).length > 0 || headers["impersonate-uid"] !== undefined;
  if (!hasUser && !hasOther) return { kind: "none" };
  if (!hasUser) {
    return {
      kind: "error",
      status: failure(
        "InternalError",
        "Internal error occurred: requested impersonation without impersonating a user",
      ),
    };
  }

  const requests: ImpersonationRequest[] = [];
  const base = {
    verb: "impersonate",
    namespace: "",
    apiGroup: "",
    apiVersion: "",
    subresource: "",
    name: "",
  };
  if (username.startsWith(SA_PREFIX) && username.split(":").length === 4) {
    const [, , ns, name] = username.split(":") as [string, string, string, string];
    requests.push({ attrs: { kind: "resource", ...base, resource: "serviceaccounts", namespace: ns, name } });
  } else {
    requests.push({ attrs: { kind: "resource", ...base, resource: "users", name: username } });
  }
  if (headers["impersonate-uid"] !== undefined) {
    requests.push({
      attrs: { kind: "resource", ...base, apiGroup: "authentication.k8s.io", resource: "uids", name: uid },
    });
  }
  for (const g of groups)
    requests.push({ attrs: { kind: "resource", ...base, resource: "groups", name: g } });
  for (const [key, vs] of Object.entries(extra)) {
    for (const v of vs) {
      requests.push({
        attrs: {
          kind: "resource",
          ...base,
          apiGroup: "authentication.k8s.io",
          resource: "userextras",
          subresource: key,
          name: v,
        },
      });
    }
  }

  for (const r of requests) {
    const attrs: RequestAttributes = { ...r.attrs, user: actor };
    const d = await authorize(attrs);
    if (d.decision !== "allow") return { kind: "error", status: forbidden(attrs, d.reason) };
  }

  const outGroups = [...groups];
  if (username.startsWith(SA_PREFIX) && username.split(":").length === 4) {
    const ns = username.split(":")[2] as string;
    for (const g of ["system:serviceaccounts", `system:serviceaccounts:${ns}`])
      if (!outGroups.includes(g)) outGroups.push(g);
  }
  if (username !== "system:anonymous" && !outGroups.includes("system:authenticated"))
    outGroups.push("system:authenticated");
  if (username === "system:anonymous" && !outGroups.includes("system:unauthenticated"))
    outGroups.push("system:unauthenticated");
  return {
    kind: "impersonate",
    user: {
      username,
      groups: outGroups,
      ...(headers["impersonate-uid"] !== undefined ? { uid } : {}),
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    },
  };
}
