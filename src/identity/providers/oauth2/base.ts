import { caBundleOf } from "../common.js";
import { isUnavailable, providerFetch, rootMessage, withSignal, type ProviderFetch } from "../http.js";
import {
  ProviderRefusedError,
  ProviderUnavailableError,
  type ExternalIdentity,
  type ProviderCheck,
  type ProviderCommon,
  type Recheck,
  type RedirectProvider,
  type RedirectStart,
} from "../types.js";
import {
  authorizeRedirect,
  codeFrom,
  tokenRequest,
  type OAuth2Endpoints,
  type OAuth2Pending,
  type OAuth2Tokens,
} from "./client.js";

/** What an OAuth2 provider keeps (sealed) to re-check a person at session refresh. */
interface RecheckState {
  accessToken: string;
  refreshToken?: string;
}

/**
 * The code flow shared by the generic OAuth2 and the GitHub providers; each says how an access token
 * becomes an identity (`identify`) and what `idp test` checks (`checks`).
 */
export abstract class OAuth2Base implements RedirectProvider {
  readonly flow = "redirect";
  abstract readonly type: "oauth2" | "github";
  readonly name: string;
  readonly displayName: string;
  protected readonly fetch: ProviderFetch | undefined;
  protected readonly caProblem: string | undefined;

  constructor(
    protected readonly common: ProviderCommon,
    protected readonly endpoints: OAuth2Endpoints,
    caSection: Record<string, unknown>,
  ) {
    this.name = common.name;
    this.displayName = common.displayName;
    let ca: string | undefined;
    try {
      ca = caBundleOf(caSection);
    } catch (e) {
      this.caProblem = `cannot read caFile: ${(e as NodeJS.ErrnoException).code ?? rootMessage(e)}`;
    }
    this.fetch = this.caProblem ? undefined : providerFetch(common.name, ca, common.timeoutMs);
  }

  /** Who holds this access token, as a Gatehouse identity (prefixes applied, recheckState unset). */
  protected abstract identify(accessToken: string): Promise<ExternalIdentity>;

  /** The reachability checks of `idp test`. */
  protected abstract checks(): Promise<ProviderCheck[]>;

  protected http(): ProviderFetch {
    if (!this.fetch) throw new ProviderUnavailableError(this.name, this.caProblem ?? "no CA");
    return this.fetch;
  }

  begin(callbackUrl: string, state: string): Promise<RedirectStart> {
    const r = authorizeRedirect(this.endpoints, callbackUrl, state);
    return Promise.resolve({ location: r.location, pending: JSON.stringify(r.pending) });
  }

  async complete(
    callbackUrl: string,
    params: URLSearchParams,
    pendingText: string,
    signal: AbortSignal,
  ): Promise<ExternalIdentity> {
    const pending = JSON.parse(pendingText) as OAuth2Pending;
    const code = codeFrom(this.name, params, pending);
    return withSignal(signal, async () => {
      const tokens = await this.guard(() =>
        tokenRequest(this.http(), this.endpoints, {
          code,
          redirectUri: callbackUrl,
          ...(pending.verifier !== undefined ? { verifier: pending.verifier } : {}),
        }),
      );
      const id = await this.guard(() => this.identify(tokens.accessToken));
      return { ...id, recheckState: JSON.stringify(stateOf(tokens)) };
    });
  }

  /**
   * With a refresh token: refresh, then ask who holds the new access token. Without: ask with the
   * stored access token (GitHub's do not expire). A refusal ends the session; no answer keeps it.
   */
  async recheck(identity: ExternalIdentity, signal: AbortSignal): Promise<Recheck> {
    if (identity.recheckState === undefined) return { kind: "ok", identity };
    const state = JSON.parse(identity.recheckState) as RecheckState;
    try {
      return await withSignal(signal, async () => {
        const tokens: OAuth2Tokens = state.refreshToken
          ? await tokenRequest(this.http(), this.endpoints, { refreshToken: state.refreshToken })
          : state;
        const keep = tokens.refreshToken ?? state.refreshToken;
        const next = stateOf({ accessToken: tokens.accessToken, ...(keep ? { refreshToken: keep } : {}) });
        const id = await this.identify(tokens.accessToken);
        if (id.subject !== identity.subject)
          return { kind: "gone", reason: "the provider answered for another subject" } as const;
        return { kind: "ok", identity: { ...id, recheckState: JSON.stringify(next) } } as const;
      });
    } catch (e) {
      if (e instanceof ProviderUnavailableError || isUnavailable(e))
        return { kind: "unavailable", reason: rootMessage(e) };
      return { kind: "gone", reason: rootMessage(e) };
    }
  }

  async test(signal: AbortSignal): Promise<ProviderCheck[]> {
    if (this.caProblem) return [{ step: "CA bundle", ok: false, message: this.caProblem }];
    try {
      return await withSignal(signal, () => this.checks());
    } catch (e) {
      return [{ step: "reachability", ok: false, message: rootMessage(e) }];
    }
  }

  /** Probe that a URL answers over HTTP(S) at all (any status): the server is there. */
  protected async reachable(step: string, url: string): Promise<ProviderCheck> {
    try {
      const r = await this.http()(url, { method: "GET" });
      await r.arrayBuffer();
      return { step, ok: true, message: `${url} answers (HTTP ${r.status})` };
    } catch (e) {
      return {
        step,
        ok: false,
        message: `${url}: ${rootMessage(e)}; check the URL, the network path and caData/caFile`,
      };
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ProviderRefusedError || e instanceof ProviderUnavailableError) throw e;
      if (isUnavailable(e)) throw new ProviderUnavailableError(this.name, rootMessage(e));
      throw new ProviderRefusedError(this.name, rootMessage(e));
    }
  }
}

function stateOf(t: OAuth2Tokens): RecheckState {
  return {
    accessToken: t.accessToken,
    ...(t.refreshToken !== undefined ? { refreshToken: t.refreshToken } : {}),
  };
}
