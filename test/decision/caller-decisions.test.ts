import { describe, expect, it } from "vitest";
import { callerGate } from "../../src/decision/caller-gate.js";
import type { CallerRequirement } from "../../src/decision/decision.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { PermissionDeniedError, UnauthenticatedError, UnavailableError } from "../../src/errors.js";
import { fakePolicy, fakeVerifier, identity } from "./fakes.js";

const BOOTSTRAP_ROOT = identity({ tokenId: "tok_bootstrap", scopes: ["*"], source: "bootstrap" });
const CONFIG_ROOT = identity({ tokenId: "tok_config", scopes: ["*"], source: "config" });
const FILE_STAR = identity({ tokenId: "tok_file", scopes: ["*"], source: "file" });
const DCR_WRITER = identity({ tokenId: "tok_dcr", scopes: ["dcr:write"] });
const JWT_STAR = identity({ tokenId: "jwt:idp:x", credentialType: "jwt", scopes: ["*"], source: undefined });

const ROOT: CallerRequirement = { kind: "root", purpose: "token administration" };
const DCR_WRITE: CallerRequirement = { kind: "root_or_scope", scope: "dcr:write" };

function setup(options: { allowAll?: boolean } = {}) {
  const credentials = fakeVerifier({
    bootstrap: () => ({ identity: BOOTSTRAP_ROOT }),
    config: () => ({ identity: CONFIG_ROOT }),
    file: () => ({ identity: FILE_STAR }),
    dcr: () => ({ identity: DCR_WRITER }),
    jwt: () => ({ identity: JWT_STAR }),
    revoked: () => ({ rejection: { reason: "token_revoked" } }),
    outage: () => {
      throw new UnavailableError("store unavailable");
    },
  });
  // Caller questions never consult the policy: one that covers everything must change nothing.
  const everything = fakePolicy({ ruleName: "open", public: true, scope: "", singleUse: false });
  const engine = new DecisionEngine(everything.policy, credentials.authenticator, options);
  const ask = (bearer: string, requirement: CallerRequirement) =>
    engine.decideCaller({ authorization: bearer === "" ? "" : `Bearer ${bearer}`, requirement });
  return { engine, ask, credentials, policyAsked: everything.asked };
}

describe("a caller question for root", () => {
  it.each([
    ["bootstrap", BOOTSTRAP_ROOT],
    ["config", CONFIG_ROOT],
  ])("allows a * credential from the %s with its identity", async (bearer, expected) => {
    expect(await setup().ask(bearer, ROOT)).toEqual({ allowed: true, reason: "ok", identity: expected, requiredScope: undefined });
  });

  it.each(["file", "jwt", "dcr"])("denies the %s credential as root_required, naming who asked", async (bearer) => {
    const decision = await setup().ask(bearer, ROOT);
    expect(decision).toMatchObject({ allowed: false, denial: "forbidden", reason: "root_required" });
    expect(decision.identity?.tokenId).toBeDefined();
  });

  it("never consults the policy", async () => {
    const { ask, policyAsked } = setup();
    await ask("bootstrap", ROOT);
    await ask("", ROOT);
    expect(policyAsked).toEqual([]);
  });
});

describe("a caller question for a scope", () => {
  it("allows a credential granted exactly that scope, and root", async () => {
    const { ask } = setup();
    expect(await ask("dcr", DCR_WRITE)).toMatchObject({ allowed: true, reason: "ok", identity: DCR_WRITER, requiredScope: "dcr:write" });
    expect(await ask("config", DCR_WRITE)).toMatchObject({ allowed: true, identity: CONFIG_ROOT });
  });

  it("denies a * credential that is not root as insufficient_scope: * outside root administers nothing", async () => {
    const { ask } = setup();
    expect(await ask("file", DCR_WRITE)).toMatchObject({ allowed: false, denial: "forbidden", reason: "insufficient_scope", requiredScope: "dcr:write" });
    expect(await ask("jwt", DCR_WRITE)).toMatchObject({ allowed: false, reason: "insufficient_scope" });
  });

  it("denies a credential holding another scope as insufficient_scope", async () => {
    expect(await setup().ask("dcr", { kind: "root_or_scope", scope: "oauth:flow" })).toMatchObject({
      allowed: false,
      reason: "insufficient_scope",
      identity: DCR_WRITER,
    });
  });

  it("denies an empty scope as no_required_scope, even to root, without looking at the credential", async () => {
    const { ask, credentials } = setup();
    expect(await ask("bootstrap", { kind: "root_or_scope", scope: " " })).toMatchObject({ allowed: false, reason: "no_required_scope" });
    expect(credentials.asked).toEqual([]);
  });
});

describe("a caller question without a valid credential", () => {
  it.each([
    ["", "missing_credential"],
    ["revoked", "token_revoked"],
    ["nobody-knows-this", "unknown_token"],
  ])("denies %j as unauthenticated with the reason %s", async (bearer, reason) => {
    for (const requirement of [ROOT, DCR_WRITE, { kind: "any_credential" } as const]) {
      expect(await setup().ask(bearer, requirement)).toMatchObject({ allowed: false, denial: "unauthenticated", reason });
    }
  });

  it("rethrows an outage rather than deciding", async () => {
    await expect(setup().ask("outage", ROOT)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("a caller question for any credential", () => {
  it("allows every verified credential with its identity", async () => {
    expect(await setup().ask("dcr", { kind: "any_credential" })).toMatchObject({ allowed: true, reason: "ok", identity: DCR_WRITER });
  });
});

describe("development's allow-all and caller questions", () => {
  it("opens no caller question: administration stays closed in dev mode", async () => {
    const { ask } = setup({ allowAll: true });
    expect(await ask("dcr", ROOT)).toMatchObject({ allowed: false, reason: "root_required" });
    expect(await ask("", DCR_WRITE)).toMatchObject({ allowed: false, reason: "missing_credential" });
  });
});

describe("the caller gate", () => {
  it("hands back the identity of an allowed caller", async () => {
    expect(await callerGate(setup().engine)("Bearer config", ROOT)).toBe(CONFIG_ROOT);
  });

  it("answers a refused credential with Unauthenticated naming the reason", async () => {
    const refused = callerGate(setup().engine)("Bearer revoked", ROOT);
    await expect(refused).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(refused).rejects.toThrow(/^credential rejected: token_revoked$/);
  });

  it("answers a caller that may not make the call with PermissionDenied saying what it needs", async () => {
    const gate = callerGate(setup().engine);
    const notRoot = gate("Bearer dcr", ROOT);
    await expect(notRoot).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(notRoot).rejects.toThrow(/^token administration needs a root token$/);
    const noScope = gate("Bearer file", DCR_WRITE);
    await expect(noScope).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(noScope).rejects.toThrow(/^this call needs a root token or scope "dcr:write"$/);
  });
});
