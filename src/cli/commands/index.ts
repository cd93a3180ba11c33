import type { Command } from "commander";
import type { Output } from "../io.js";
import { registerServe } from "./serve.js";
import { registerUsers } from "./users.js";
import { registerObjects } from "./objects.js";
import { registerCluster } from "./cluster.js";
import { registerSecrets } from "./secrets.js";
import { registerRbac } from "./rbac.js";
import { registerAudit } from "./audit.js";
import { registerAudit2rbac } from "./audit2rbac.js";
import { registerNetpol } from "./netpol.js";
import { registerTenant } from "./tenant.js";
import { registerSpace } from "./space.js";
import { registerLogin } from "./login.js";
import { registerToken } from "./token.js";
import { registerKubeconfig } from "./kubeconfig.js";
import { registerIdp } from "./idp.js";

/** Every command group, in the order `gatehouse --help` lists them. */
export function registerCommands(program: Command, output: Output): void {
  registerServe(program, output);
  registerLogin(program, output);
  registerToken(program, output);
  registerKubeconfig(program, output);
  registerUsers(program, output);
  registerIdp(program, output);
  registerObjects(program, output);
  registerCluster(program, output);
  registerSecrets(program, output);
  registerRbac(program, output);
  registerAudit(program, output);
  registerAudit2rbac(program, output);
  registerNetpol(program, output);
  registerTenant(program, output);
  registerSpace(program, output);
}
