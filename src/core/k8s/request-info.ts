import type { RequestAttributes, UserInfo } from "./attributes.js";
import { decodeListOptions, queryBool, type QueryValues } from "./list-options.js";

/**
 * What kube-apiserver's RequestInfoFactory (APIPrefixes {api, apis}, GrouplessAPIPrefixes {api})
 * derives from an HTTP request: k8s.io/apiserver/pkg/endpoints/request/requestinfo.go.
 * Authorization, audit policy, audit events and audit2rbac all read requests through this one parser,
 * so that the gateway sees exactly what the cluster behind it would see.
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  /** The decoded URL path, as Go's url.URL.Path. */
  path: string;
  /** The Kubernetes verb; for non-resource requests the lower-cased HTTP method. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts from the resource on: resource/name/subresource/... */
  parts: readonly string[];
  /** Raw selectors, kept only for list, watch and deletecollection (AuthorizeWithSelectors). */
  fieldSelector: string;
  labelSelector: string;
}

export type RequestInfoErrorCode = "InvalidPath" | "MissingResource";

/** A request kube-apiserver would refuse before authorization (400 for a bad escape, 500 for a bare special verb). */
export class RequestInfoError extends Error {
  constructor(
    readonly code: RequestInfoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RequestInfoError";
  }
}

const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
const VERBS_WITH_SELECTORS = new Set(["list", "watch", "deletecollection"]);
const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * Parse an HTTP method and request-target ("/api/v1/pods?watch=1") into RequestInfo.
 * Throws RequestInfoError where kube-apiserver would refuse the request outright.
 */
export function parseRequestInfo(method: string, requestURI: string): RequestInfo {
  const q = requestURI.indexOf("?");
  const rawPath = q < 0 ? requestURI : requestURI.slice(0, q);
  const path = unescapePath(rawPath);
  const query = parseQuery(q < 0 ? "" : requestURI.slice(q + 1));
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    parts: [],
    fieldSelector: "",
    labelSelector: "",
  };
  let parts = splitPath(path);
  // Fewer than three segments, or an unknown prefix: a non-resource request such as /api or /healthz.
  if (parts.length < 3 || (parts[0] !== "api" && parts[0] !== "apis")) return info;
  const prefix = parts[0];
  parts = parts.slice(1);
  if (prefix === "apis") {
    if (parts.length < 3) return info; // /apis/{group}/{version}: discovery, not a resource
    info.apiGroup = parts[0] ?? "";
    parts = parts.slice(1);
  }
  info.apiPrefix = prefix;
  info.isResourceRequest = true;
  info.apiVersion = parts[0] ?? "";
  parts = parts.slice(1);

  let verbViaPath = false;
  if (SPECIAL_VERBS.has(parts[0] ?? "")) {
    if (parts.length < 2) {
      throw new RequestInfoError(
        "MissingResource",
        `unable to determine kind and namespace from url ${requestURI}`,
      );
    }
    info.verb = parts[0] ?? "";
    parts = parts.slice(1);
    verbViaPath = true;
  } else {
    info.verb = METHOD_VERBS[method] ?? "";
  }

  // /namespaces/{ns}/{resource}/...: parts become relative to the resource. /namespaces/{ns} itself,
  // and its status and finalize subresources, stay a request on the namespace, with namespace = name.
  if (parts[0] === "namespaces" && parts.length > 1) {
    info.namespace = parts[1] ?? "";
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? "")) parts = parts.slice(2);
  }
  info.parts = parts;
  // proxy takes everything after the name as its path, so it has no subresource.
  if (parts.length >= 3 && info.verb !== "proxy") info.subresource = parts[2] ?? "";
  if (parts.length >= 2) info.name = parts[1] ?? "";
  if (parts.length >= 1) info.resource = parts[0] ?? "";

  if (info.name === "" && info.verb === "get") {
    const opts = decodeListOptions(query);
    // When the options do not decode, kube-apiserver still honours the raw watch value but no name.
    info.verb = (opts ? opts.watch : queryBool(query.get("watch"))) ? "watch" : "list";
    const name = opts?.fieldSelectorName;
    if (name !== undefined && isValidPathSegmentName(name)) info.name = name;
  }
  if (info.name === "" && info.verb === "delete") info.verb = "deletecollection";

  // Selectors are kept verbatim, even when they failed to decode above; not for /watch/ paths.
  if (!verbViaPath && VERBS_WITH_SELECTORS.has(info.verb)) {
    info.fieldSelector = query.get("fieldSelector")?.[0] ?? "";
    info.labelSelector = query.get("labelSelector")?.[0] ?? "";
  }
  return info;
}

/** The request attributes an authorizer (RBAC, audit policy) sees for this request and user. */
export function requestAttributes(info: RequestInfo, user: UserInfo): RequestAttributes {
  if (!info.isResourceRequest) return { kind: "nonResource", user, verb: info.verb, path: info.path };
  return {
    kind: "resource",
    user,
    verb: info.verb,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
  };
}

const LONG_RUNNING_VERBS = new Set(["watch", "proxy"]);
const LONG_RUNNING_SUBRESOURCES = new Set(["attach", "exec", "proxy", "log", "portforward"]);

/**
 * kube-apiserver's long-running check (BasicLongRunningRequestCheck with verbs watch, proxy and
 * subresources attach, exec, proxy, log, portforward, plus profiler paths under /debug/pprof/):
 * these requests get a ResponseStarted audit stage.
 */
export function isLongRunning(info: RequestInfo): boolean {
  if (LONG_RUNNING_VERBS.has(info.verb)) return true;
  if (info.isResourceRequest) return LONG_RUNNING_SUBRESOURCES.has(info.subresource);
  return info.path.startsWith("/debug/pprof/");
}

/** apimachinery path.IsValidPathSegmentName: not "." or "..", no "/" or "%". */
function isValidPathSegmentName(name: string): boolean {
  return name !== "." && name !== ".." && !name.includes("/") && !name.includes("%");
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

const decoder = new TextDecoder();

/** Percent-decoding as Go's url.PathUnescape: a malformed escape is an error; "+" stays "+". */
function unescapePath(raw: string): string {
  const out = percentDecode(raw, false);
  if (out === undefined)
    throw new RequestInfoError("InvalidPath", `invalid URL escape in ${JSON.stringify(raw)}`);
  return out;
}

function percentDecode(s: string, plusIsSpace: boolean): string | undefined {
  if (!s.includes("%") && !(plusIsSpace && s.includes("+"))) return s;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === "+" && plusIsSpace) {
      bytes.push(0x20);
    } else {
      const cp = s.codePointAt(i) ?? 0;
      if (cp > 0xffff) i++;
      bytes.push(...enc.encode(String.fromCodePoint(cp)));
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** Go's url.ParseQuery: "&"-separated pairs; pairs holding ";" or bad escapes are dropped. */
function parseQuery(raw: string): QueryValues {
  const out = new Map<string, string[]>();
  for (const pair of raw.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const key = percentDecode(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = percentDecode(eq < 0 ? "" : pair.slice(eq + 1), true);
    if (key === undefined || value === undefined) continue;
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}
