import { describe, expect, it } from "vitest";
import { allowCaller, deny, type CallerDecision, type Decider } from "../../src/decision/decision.js";
import type { Identity } from "../../src/model/identity.js";
import { callerScope } from "../../src/observability/caller-scope.js";

const identity = (tokenId: string, owner?: string): Identity => ({
  subject: `token:${tokenId}`,
  tokenId,
  credentialType: "opaque",
  name: tokenId,
  scopes: [],
  libraries: [],
  allowedTools: [],
  ...(owner === undefined ? {} : { owner }),
});

/** What the engine answers each credential's caller question. */
const ANSWERS: Record<string, CallerDecision> = {
  "Bearer root": allowCaller(identity("tok_root", "alice")),
  "Bearer writer": deny("forbidden", "insufficient_scope", identity("tok_writer")),
  "Bearer unknown": deny("unauthenticated", "unknown_token"),
};

const engine: Decider = {
  decide: () => Promise.reject(new Error("no request decisions here")),
  decideCaller: async ({ authorization }) => ANSWERS[authorization]!,
};

describe("the caller scope", () => {
  it("notes the caller the engine verified for the credential a call presents, denied or not", async () => {
    const scope = callerScope();
    const noting = scope.notingCallers(engine);
    const root = await scope.within("Bearer root", () => noting.decideCaller({ authorization: "Bearer root", requirement: { kind: "any_credential" } }));
    const writer = await scope.within("Bearer writer", () => noting.decideCaller({ authorization: "Bearer writer", requirement: { kind: "any_credential" } }));
    expect(root.caller).toEqual({ tokenId: "tok_root", owner: "alice" });
    expect(writer.caller).toEqual({ tokenId: "tok_writer" });
    expect(writer.outcome).toMatchObject({ status: "fulfilled", value: { allowed: false } });
  });

  it("leaves a call's record empty for a credential the engine could not verify, or a decision on another credential", async () => {
    const scope = callerScope();
    const noting = scope.notingCallers(engine);
    const unknown = await scope.within("Bearer unknown", async () => {
      await noting.decideCaller({ authorization: "Bearer root", requirement: { kind: "any_credential" } });
      return noting.decideCaller({ authorization: "Bearer unknown", requirement: { kind: "any_credential" } });
    });
    expect(unknown.caller).toEqual({});
  });

  it("hands back what the call threw as its outcome, and notes nothing once the call is over", async () => {
    const scope = callerScope();
    const noting = scope.notingCallers(engine);
    const failed = await scope.within("Bearer root", () => Promise.reject(new Error("not found")));
    expect(failed.outcome).toMatchObject({ status: "rejected", reason: new Error("not found") });
    await noting.decideCaller({ authorization: "Bearer root", requirement: { kind: "any_credential" } });
    expect(failed.caller).toEqual({});
  });
});
