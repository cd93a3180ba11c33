/**
 * The attributes of one request, as kube-apiserver's authorizer.Attributes: who asks, and what for.
 * RBAC, audit policy and audit2rbac all take this one shape.
 */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: readonly string[];
  extra?: Readonly<Record<string, readonly string[]>>;
}

export interface ResourceAttributes {
  kind: "resource";
  user: UserInfo;
  verb: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface NonResourceAttributes {
  kind: "nonResource";
  user: UserInfo;
  verb: string;
  path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;
