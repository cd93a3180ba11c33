import { randomBytes, randomUUID } from "node:crypto";
import type { Store } from "../store/index.js";
import { hashPassword } from "./passwords.js";
import { ADMIN_GROUP } from "./local-users.js";

/**
 * On the first start with an empty store, create the `admin` user with a random password and return
 * it, exactly once: a settings marker written in the same store makes every later start (and every
 * other replica racing this one) return undefined.
 */
export async function bootstrapAdmin(store: Store, now: number): Promise<string | undefined> {
  if ((await store.users.count()) > 0) return undefined;
  if (!(await store.settings.setIfAbsent("bootstrap.admin", new Date(now).toISOString()))) return undefined;
  const password = randomBytes(18).toString("base64url");
  await store.users.create({
    name: "admin",
    uid: randomUUID(),
    passwordHash: await hashPassword(password),
    disabled: false,
    groups: [ADMIN_GROUP],
    createdAt: now,
    updatedAt: now,
  });
  return password;
}
