import type { IncomingMessage } from "node:http";
import {
  specToAttributes,
  type RequestAttributes,
  type SubjectAccessReviewSpec,
  type UserInfo,
} from "../../core/k8s/index.js";

type SsarSpec = Pick<SubjectAccessReviewSpec, "resourceAttributes" | "nonResourceAttributes">;
import { decodeSelfSubjectAccessReview, ProtobufError } from "../../core/k8s/protobuf.js";
import type { Decision } from "../../core/rbac/index.js";
import { readBody } from "../body.js";
import { HttpError } from "../errors.js";

const SSAR_PATH = /^\/apis\/authorization\.k8s\.io\/v1\/selfsubjectaccessreviews\/?(\?.*)?$/;

export function isSelfSubjectAccessReview(method: string, requestURI: string): boolean {
  return method === "POST" && SSAR_PATH.test(requestURI);
}

/**
 * `kubectl auth can-i` through the gateway: the answer must honour both gates. Central authorization is
 * asked first; when it says no, the answer is no (the cluster is not asked, since the gateway would refuse
 * the real request anyway); when it says yes, the review goes on to the cluster, whose answer is returned.
 * Returns the body to forward, or the review to answer with directly.
 */
export async function centralSelfReview(
  req: IncomingMessage,
  user: UserInfo,
  authorize: (a: RequestAttributes) => Promise<Decision>,
  maxBody: number,
): Promise<{ kind: "forward"; body: Buffer } | { kind: "answer"; review: Record<string, unknown> }> {
  const body = await readBody(req, maxBody);
  // kubectl sends protobuf, other clients JSON. A body we cannot read is refused: never forwarded unchecked.
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]
    ?.trim();
  let spec: SsarSpec;
  try {
    if (type === "application/vnd.kubernetes.protobuf") spec = decodeSelfSubjectAccessReview(body);
    else spec = (JSON.parse(body.toString("utf8")) as { spec?: SsarSpec }).spec ?? {};
  } catch (e) {
    if (e instanceof ProtobufError || e instanceof SyntaxError)
      throw new HttpError("BadRequest", `cannot read the SelfSubjectAccessReview: ${e.message}`);
    throw e;
  }
  if (!spec.resourceAttributes === !spec.nonResourceAttributes) {
    throw new HttpError(
      "Invalid",
      "SelfSubjectAccessReview.authorization.k8s.io is invalid: spec: exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
  }
  const attrs = specToAttributes(spec, user);
  const d = await authorize(attrs);
  if (d.decision === "allow") return { kind: "forward", body };
  return {
    kind: "answer",
    review: {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: false, reason: "Gatehouse: no access binding grants this on this cluster" },
    },
  };
}
