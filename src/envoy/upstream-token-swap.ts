import { deny, type Decision } from "../decision/decision.js";
import type { UpstreamAccess } from "../oauth/upstream-token-vault.js";
import type { UpstreamTokenKey } from "../model/upstream-token.js";

/** Who is calling Check: its verified client certificate's names (src/http/peer-identity.ts), absent without one. */
export interface CheckCaller {
  readonly names: readonly string[];
}

export interface UpstreamTokenSwapDeps {
  vault: { access(key: UpstreamTokenKey): Promise<UpstreamAccess> };
  /** Certificate names (caller-identity syntax, `*` for any verified certificate) that may receive upstream tokens. */
  recipients: readonly string[];
}

/** An allowed decision and the `authorization` value to send upstream in place of the client's. */
export type SwappedDecision = { decision: Decision; upstreamAuthorization?: string };

/**
 * Turns an allow under a rule with `upstream_token` into an allow carrying
 * the principal's upstream access token, or into a denial saying why there
 * is none. It never lets such a request through without the swap: a caller
 * that may not receive tokens is denied, not answered with the client's
 * own credential.
 */
export function upstreamTokenSwap(deps: UpstreamTokenSwapDeps | undefined) {
  const anyCertificate = deps?.recipients.includes("*") ?? false;
  const mayReceive = (caller: CheckCaller | undefined) =>
    deps !== undefined && caller !== undefined && (anyCertificate || caller.names.some((name) => deps.recipients.includes(name)));

  return async (decision: Decision, caller: CheckCaller | undefined): Promise<SwappedDecision> => {
    if (!carriesUpstreamToken(decision)) return { decision };
    const { identity, requiredScope } = decision;
    const denied = (denial: "unauthenticated" | "forbidden", reason: Parameters<typeof deny>[1], upstreamToken?: string) => ({
      decision: {
        ...deny(denial, reason, identity, requiredScope),
        ...(decision.rule === undefined ? {} : { rule: decision.rule }),
        ...(upstreamToken === undefined ? {} : { upstreamToken }),
      },
    });
    if (deps === undefined || identity === undefined || !mayReceive(caller)) return denied("forbidden", "upstream_token_not_permitted");
    const access = await deps.vault.access({ principal: identity.subject, upstreamId: decision.upstreamToken });
    // The upstream id goes along, so the challenge can name where to log in.
    if ("missing" in access) return denied("unauthenticated", "upstream_login_required", decision.upstreamToken);
    // A token that is not a header-safe bearer (RFC 6750 b64token) is never written into a header.
    if ("refreshFailed" in access || !/^[A-Za-z0-9\-._~+/]+=*$/.test(access.accessToken)) return denied("forbidden", "upstream_refresh_failed");
    return { decision, upstreamAuthorization: `Bearer ${access.accessToken}` };
  };
}

export type UpstreamTokenSwap = ReturnType<typeof upstreamTokenSwap>;

/** Whether `upstreamTokenSwap` has anything to do with the decision: an allow under a rule with `upstream_token`. */
export function carriesUpstreamToken(decision: Decision): decision is Extract<Decision, { allowed: true }> & { upstreamToken: string } {
  return decision.allowed && decision.upstreamToken !== undefined;
}
