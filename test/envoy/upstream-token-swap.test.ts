import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/decision/decision.js";
import type { Identity } from "../../src/model/identity.js";
import type { UpstreamAccess } from "../../src/oauth/upstream-token-vault.js";
import { upstreamTokenSwap } from "../../src/envoy/upstream-token-swap.js";

const identity: Identity = {
  subject: "token:tok_alice",
  tokenId: "tok_alice",
  credentialType: "opaque",
  name: "alice",
  scopes: ["repos"],
  libraries: [],
  allowedTools: [],
};
const allowed: Decision = { allowed: true, reason: "ok", identity, requiredScope: "repos", rule: "repos", upstreamToken: "github" };
const envoy = { names: ["spiffe://example.org/envoy", "dns:gw.example"] };

/** A vault that answers `answer` and remembers what it was asked. */
function vaultAnswering(answer: UpstreamAccess) {
  const asked: unknown[] = [];
  return { asked, access: async (key: unknown) => (asked.push(key), answer) };
}

describe("the upstream token swap of Envoy's Check", () => {
  it("puts the principal's upstream token on an allow for a recipient, asking the vault by subject and upstream id", async () => {
    const vault = vaultAnswering({ accessToken: "upstream-at", tokenType: "Bearer" });
    const swapped = await upstreamTokenSwap({ vault, recipients: ["dns:gw.example"] })(allowed, envoy);
    expect(swapped).toEqual({ decision: allowed, upstreamAuthorization: "Bearer upstream-at" });
    expect(vault.asked).toEqual([{ principal: "token:tok_alice", upstreamId: "github" }]);
  });

  it("denies upstream_token_not_permitted to a caller without a certificate or with one not among the recipients, without asking the vault", async () => {
    const vault = vaultAnswering({ accessToken: "upstream-at", tokenType: "Bearer" });
    const swap = upstreamTokenSwap({ vault, recipients: ["spiffe://example.org/other"] });
    for (const caller of [undefined, envoy]) {
      const { decision, upstreamAuthorization } = await swap(allowed, caller);
      expect(decision).toMatchObject({ allowed: false, denial: "forbidden", reason: "upstream_token_not_permitted", rule: "repos" });
      expect(upstreamAuthorization).toBeUndefined();
    }
    expect(vault.asked).toEqual([]);
  });

  it("denies every such rule when the vault is off, and lets any verified certificate receive with the recipient *", async () => {
    expect((await upstreamTokenSwap(undefined)(allowed, envoy)).decision.reason).toBe("upstream_token_not_permitted");
    const vault = vaultAnswering({ accessToken: "upstream-at", tokenType: "Bearer" });
    expect((await upstreamTokenSwap({ vault, recipients: ["*"] })(allowed, { names: [] })).upstreamAuthorization).toBe("Bearer upstream-at");
  });

  it.each<[UpstreamAccess, string, string]>([
    [{ missing: true }, "unauthenticated", "upstream_login_required"],
    [{ refreshFailed: true }, "forbidden", "upstream_refresh_failed"],
    [{ accessToken: "has space\r\nx-injected: 1", tokenType: "Bearer" }, "forbidden", "upstream_refresh_failed"],
  ])("turns a vault answer without a usable token into a denial (%j)", async (answer, denial, reason) => {
    const { decision, upstreamAuthorization } = await upstreamTokenSwap({ vault: vaultAnswering(answer), recipients: ["*"] })(allowed, envoy);
    expect(decision).toMatchObject({ allowed: false, denial, reason });
    expect(upstreamAuthorization).toBeUndefined();
  });

  it("names the upstream id on the login denial, for the challenge's login URL, and on no other denial", async () => {
    const missing = await upstreamTokenSwap({ vault: vaultAnswering({ missing: true }), recipients: ["*"] })(allowed, envoy);
    expect(missing.decision).toMatchObject({ reason: "upstream_login_required", upstreamToken: "github", rule: "repos" });
    const failed = await upstreamTokenSwap({ vault: vaultAnswering({ refreshFailed: true }), recipients: ["*"] })(allowed, envoy);
    expect(failed.decision).not.toHaveProperty("upstreamToken");
  });

  it("leaves decisions of other rules and denials as they are", async () => {
    const vault = vaultAnswering({ missing: true });
    const swap = upstreamTokenSwap({ vault, recipients: ["*"] });
    const plain: Decision = { allowed: true, reason: "ok", identity };
    const denied: Decision = { allowed: false, denial: "forbidden", reason: "insufficient_scope", identity };
    expect(await swap(plain, envoy)).toEqual({ decision: plain });
    expect(await swap(denied, envoy)).toEqual({ decision: denied });
    expect(vault.asked).toEqual([]);
  });
});
