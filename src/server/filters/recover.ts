import type { Filter } from "../context.js";
import { toStatus } from "../errors.js";
import { writeStatus } from "../respond.js";

/**
 * The outermost filter: any error thrown below becomes a Status. Known errors keep their message;
 * unknown ones are a 500 whose body says nothing internal, with the cause in the log.
 */
export const withRecovery: Filter = (next) => async (ctx) => {
  try {
    await next(ctx);
  } catch (e) {
    const { status, internal, busy } = toStatus(e);
    if (internal) ctx.log.error({ err: e }, "request failed");
    if (busy) ctx.log.warn({ err: (e as Error).message }, "store busy: answered 503 with Retry-After");
    writeStatus(ctx.res, status);
  }
};
