import {
  buildEvent,
  formatMicroTime,
  gatewayAnnotations,
  classifyImpact,
  type Event,
  type Stage,
} from "../../src/core/audit/index.js";
import { parseRequestInfo, requestAttributes, type UserInfo } from "../../src/core/k8s/index.js";

/** A gateway-style event for tests, built by the pure core as the filter builds it. */
export function gatewayEvent(opts: {
  auditID: string;
  method?: string;
  uri: string;
  user: UserInfo;
  impersonated?: UserInfo;
  cluster?: string;
  code?: number;
  at: number;
  stage?: Stage;
  decision?: "allow" | "forbid";
}): Event {
  const attrs = requestAttributes(parseRequestInfo(opts.method ?? "GET", opts.uri), opts.user);
  const e = buildEvent(
    opts.stage ?? "ResponseComplete",
    { level: "Metadata", omitStages: [], omitManagedFields: false },
    {
      auditID: opts.auditID,
      requestURI: opts.uri,
      attributes: attrs,
      ...(opts.impersonated ? { impersonatedUser: opts.impersonated } : {}),
      sourceIPs: ["127.0.0.1"],
      requestReceivedTimestamp: formatMicroTime(opts.at),
      annotations: gatewayAnnotations({
        decision: opts.decision ?? "allow",
        reason: "",
        cluster: opts.cluster ?? "c1",
        impact: classifyImpact(attrs),
      }),
    },
    { code: opts.code ?? 200 },
    formatMicroTime(opts.at),
  );
  if (!e) throw new Error("no event");
  return e;
}

export const alice: UserInfo = { username: "alice", groups: ["dev", "system:authenticated"] };
export const bob: UserInfo = { username: "bob", groups: ["ops", "system:authenticated"] };
