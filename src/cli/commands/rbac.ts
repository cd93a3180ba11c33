import type { Command } from "commander";
import type { Output } from "../io.js";
import { registerAggregate } from "./rbac/aggregate.js";
import { registerCanGrant } from "./rbac/can-grant.js";
import { registerCanI } from "./rbac/can-i.js";
import { registerReview } from "./rbac/review.js";
import { registerRules } from "./rbac/rules.js";
import { registerWhoCan } from "./rbac/who-can.js";

/**
 * `gatehouse rbac`: Kubernetes RBAC answered offline from YAML/JSON (--objects) or from a live
 * cluster's RBAC objects (--kubeconfig/--context), exactly as kube-apiserver would answer.
 */
export function registerRbac(program: Command, output: Output): void {
  const rbac = program
    .command("rbac")
    .description("Kubernetes RBAC: review access, who can, rules, escalation checks, aggregation");
  registerReview(rbac, output);
  registerCanI(rbac, output);
  registerWhoCan(rbac, output);
  registerRules(rbac, output);
  registerCanGrant(rbac, output);
  registerAggregate(rbac, output);
}
