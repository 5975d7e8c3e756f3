import fc from "fast-check";
import { allow, deny, type Decision } from "../../src/decision/decision.js";
import type { CredentialType } from "../../src/model/identity.js";
import { REASON_CODES, type ReasonCode } from "../../src/model/reason-codes.js";

/** Any decision an engine could hand a response encoder: either verdict, any reason, with or without a principal and a scope. */
export function anyDecision(): fc.Arbitrary<Decision> {
  const text = fc.string({ unit: "binary", maxLength: 24 });
  const identity = fc.record(
    {
      subject: text,
      tokenId: text,
      credentialType: fc.constantFrom<CredentialType>("opaque", "jwt", "team_token", "request_token"),
      name: text,
      scopes: fc.array(text, { maxLength: 4 }),
      libraries: fc.array(text, { maxLength: 4 }),
      allowedTools: fc.constant([]),
      issuerAlias: text,
      owner: text,
    },
    { requiredKeys: ["subject", "tokenId", "credentialType", "name", "scopes", "libraries", "allowedTools"] },
  );
  const reason = fc.constantFrom(...(Object.keys(REASON_CODES) as ReasonCode[]));
  return fc.oneof(
    fc.tuple(reason, fc.option(identity, { nil: undefined }), fc.option(text, { nil: undefined })).map(([code, who, scope]) => allow(code, who, scope)),
    fc
      .tuple(fc.constantFrom("unauthenticated", "forbidden" as const), reason, fc.option(identity, { nil: undefined }), fc.option(text, { nil: undefined }))
      .map(([denial, code, who, scope]) => deny(denial, code, who, scope)),
  );
}
