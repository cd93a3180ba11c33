import { randomUUID } from "node:crypto";
import type { Store, UserRecord } from "../../store/index.js";
import { StoreError } from "../../store/index.js";
import type { ExternalIdentity } from "./types.js";

/** Which provider and subject a user signed in through; one per user, named by the username. */
export const EXTERNAL_USER_KIND = "ExternalUser";

interface Link extends Record<string, unknown> {
  provider: string;
  subject: string;
  email?: string;
  lastSignIn: number;
}

export type UpsertResult = { kind: "ok"; user: UserRecord } | { kind: "refused"; reason: string };

/**
 * The Gatehouse user for an identity a provider vouched for: created on the first sign-in, its groups
 * replaced by the provider's on every sign-in.
 *
 * A username is owned by one identity (provider + subject) for good. A provider never signs in as a
 * local user (one with a password), nor as a user another provider or subject owns, nor as a user
 * an administrator created without a provider: such a sign-in is refused, not merged, because merging
 * would let whoever controls an upstream account with a matching name take over the Gatehouse user.
 * Usernames starting with `system:` are refused (reserved by Kubernetes), and `system:` groups are
 * dropped. Use `spec.usernamePrefix` to keep a provider's names apart from local ones.
 */
export async function upsertExternalUser(
  store: Store,
  identity: ExternalIdentity,
  now: number,
): Promise<UpsertResult> {
  const name = identity.username;
  if (name.startsWith("system:") || name.length > 253)
    return { kind: "refused", reason: `the username ${JSON.stringify(name)} is not allowed` };
  const groups = identity.groups.filter((g) => !g.startsWith("system:"));
  const existing = await store.users.get(name);
  const link: Link = {
    provider: identity.provider,
    subject: identity.subject,
    ...(identity.email !== undefined ? { email: identity.email } : {}),
    lastSignIn: now,
  };
  const key = { kind: EXTERNAL_USER_KIND, namespace: "", name };
  if (!existing) {
    const user: UserRecord = {
      name,
      uid: randomUUID(),
      passwordHash: null,
      disabled: false,
      groups,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await store.users.create(user);
    } catch (e) {
      // Another sign-in created it a moment ago: decide again against what is stored now.
      if (e instanceof StoreError && e.code === "AlreadyExists")
        return upsertExternalUser(store, identity, now);
      throw e;
    }
    await store.objects.create(key, randomUUID(), link, now).catch(async (e: unknown) => {
      if (e instanceof StoreError && e.code === "AlreadyExists") await store.objects.update(key, link);
      else throw e;
    });
    return { kind: "ok", user };
  }
  if (existing.passwordHash !== null)
    return { kind: "refused", reason: `${name} is a local user; a provider cannot sign in as a local user` };
  const stored = await store.objects.get(key);
  const owner = stored?.body as Link | undefined;
  if (!owner || owner.provider !== identity.provider || owner.subject !== identity.subject)
    return {
      kind: "refused",
      reason: owner
        ? `${name} belongs to another identity (provider ${owner.provider})`
        : `${name} was not created by an identity provider`,
    };
  if (existing.disabled) return { kind: "refused", reason: "user disabled" };
  await store.users.update(name, { groups }, now);
  await store.objects.update(key, link);
  return { kind: "ok", user: { ...existing, groups, updatedAt: now } };
}

/** The provider and subject a user belongs to, if they came from a provider. */
export async function externalLinkOf(
  store: Store,
  username: string,
): Promise<{ provider: string; subject: string } | undefined> {
  const row = await store.objects.get({ kind: EXTERNAL_USER_KIND, namespace: "", name: username });
  const b = row?.body as Link | undefined;
  return b && { provider: b.provider, subject: b.subject };
}
