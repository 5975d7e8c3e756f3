import { equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authorizeResponseEncoder } from "../../src/api/authorize-response-encoder.js";
import { authorizeResponse } from "../../src/api/messages.js";
import { allow, deny, type Decision } from "../../src/decision/decision.js";
import type { Identity } from "../../src/model/identity.js";
import { AuthorizeResponseSchema } from "../../gen/portcullis/v1/authorization_pb.js";
import { anyDecision } from "../support/decision-arbitrary.js";

const IDENTITY: Identity = {
  subject: "token:tok_1",
  tokenId: "tok_1",
  credentialType: "opaque",
  name: "reader",
  scopes: ["kafka:read", "reports:read"],
  libraries: ["lib-a"],
  allowedTools: [],
};

/** The cheap encoder's bytes against protobuf-es's for the message `authorizeResponse` builds, decoded and as they are. */
function expectSameAuthorizeResponse(decision: Decision): void {
  const generic = authorizeResponse(decision);
  const cheap = authorizeResponseEncoder()(decision);
  expect(equals(AuthorizeResponseSchema, fromBinary(AuthorizeResponseSchema, cheap), generic)).toBe(true);
  expect(Buffer.from(cheap).toString("hex")).toBe(Buffer.from(toBinary(AuthorizeResponseSchema, generic)).toString("hex"));
}

describe("the AuthorizeResponse encoder of the lean gRPC path", () => {
  it.each<[string, Decision]>([
    ["an allow with a principal, scopes, libraries and the scope it was decided against", allow("ok", IDENTITY, "kafka:read")],
    ["an allow whose principal has an issuer and an owner", allow("ok", { ...IDENTITY, credentialType: "jwt", issuerAlias: "corp-idp", owner: "alice" })],
    ["an allow on a public route, without a principal", allow("public_resource")],
    ["a denial without a credential", deny("unauthenticated", "missing_credential")],
    ["a denial for a missing scope, which names the principal but not its libraries", deny("forbidden", "insufficient_scope", IDENTITY, "kafka:write")],
    ["an allow whose texts are not ASCII", allow("ok", { ...IDENTITY, subject: "jwt:idp:ünïcode-ß", name: "名前", scopes: ["", "a\u{1F600}"] })],
  ])("writes the same bytes as protobuf-es for %s", (_name, decision) => {
    expectSameAuthorizeResponse(decision);
  });

  it("writes what protobuf-es writes for any decision", () => {
    const decision = anyDecision();
    const encode = authorizeResponseEncoder();
    fc.assert(
      fc.property(decision, (any) => {
        expect(Buffer.from(encode(any)).toString("hex")).toBe(Buffer.from(toBinary(AuthorizeResponseSchema, authorizeResponse(any))).toString("hex"));
      }),
    );
  });
});
