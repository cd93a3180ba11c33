import type { IdentityFixture } from "../identity/fixture.js";

/** Gatehouse's own audit events of one kind, flattened to what the tests look at. */
export async function auditEvents(
  fx: IdentityFixture,
  kind: "login.succeeded" | "login.failed",
): Promise<{ user: string; provider?: string; reason?: string }[]> {
  await fx.gh.audit.flush();
  const r = await fx.admin("GET", "/apis/gatehouse.io/v1alpha1/auditevents?source=gatehouse&limit=500");
  const items = r["items"] as { user: { username: string }; annotations?: Record<string, string> }[];
  return items
    .filter((e) => e.annotations?.["gatehouse.io/event-kind"] === kind)
    .map((e) => ({
      user: e.user.username,
      ...(e.annotations?.["gatehouse.io/login-provider"] !== undefined
        ? { provider: e.annotations["gatehouse.io/login-provider"] }
        : {}),
      ...(e.annotations?.["gatehouse.io/login-reason"] !== undefined
        ? { reason: e.annotations["gatehouse.io/login-reason"] }
        : {}),
    }));
}
