import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Decision as DomainDecision } from "../decision/decision.js";
import { resetOnThrow } from "../http/reset-on-throw.js";
import { CREDENTIAL_TYPES } from "./messages.js";
import { Decision, Denial } from "../../gen/portcullis/v1/authorization_pb.js";

// Field numbers of portcullis.v1.AuthorizeResponse and Principal.
const DECISION = 1;
const DENIAL = 2;
const REASON = 3;
const PRINCIPAL = 4;
const SCOPES = 5;
const LIBRARIES = 6;
const REQUIRED_SCOPE = 7;
const SUBJECT = 1;
const TOKEN_ID = 2;
const CREDENTIAL_TYPE = 3;
const NAME = 4;
const ISSUER = 5;
const OWNER = 6;

/** A decision as the bytes of an AuthorizeResponse. */
export type AuthorizeResponseEncoder = (decision: DomainDecision) => Uint8Array;

/**
 * The AuthorizeResponse of `authorizeResponse`, written straight to bytes
 * for the lean gRPC path: the same bytes protobuf-es writes for it
 * (test/api/authorize-response-encoder.test.ts compares them), without
 * building a protobuf-es message per call. As proto3 does, a field at its
 * default (0, "", an empty list) is left out; the principal is written
 * whenever the decision has an identity.
 */
export function authorizeResponseEncoder(): AuthorizeResponseEncoder {
  // One writer for every call: encoding is synchronous, and its buffer, grown once, is reused (finish() copies out).
  let writer = new BinaryWriter();
  const string = (field: number, value: string) => {
    if (value !== "") writer.tag(field, WireType.LengthDelimited).string(value);
  };
  const encode = (decision: DomainDecision) => {
    writer.tag(DECISION, WireType.Varint).int32(decision.allowed ? Decision.ALLOW : Decision.DENY);
    if (!decision.allowed) writer.tag(DENIAL, WireType.Varint).int32(decision.denial === "unauthenticated" ? Denial.UNAUTHENTICATED : Denial.FORBIDDEN);
    string(REASON, decision.reason);
    const { identity } = decision;
    if (identity !== undefined) {
      writer.tag(PRINCIPAL, WireType.LengthDelimited).fork();
      string(SUBJECT, identity.subject);
      string(TOKEN_ID, identity.tokenId);
      writer.tag(CREDENTIAL_TYPE, WireType.Varint).int32(CREDENTIAL_TYPES[identity.credentialType]);
      string(NAME, identity.name);
      string(ISSUER, identity.issuerAlias ?? "");
      string(OWNER, identity.owner ?? "");
      writer.join();
      // Repeated strings are written entry by entry, an empty one included.
      for (const scope of identity.scopes) writer.tag(SCOPES, WireType.LengthDelimited).string(scope);
      if (decision.allowed) for (const library of identity.libraries) writer.tag(LIBRARIES, WireType.LengthDelimited).string(library);
    }
    string(REQUIRED_SCOPE, decision.requiredScope ?? "");
    return writer.finish();
  };
  return resetOnThrow(encode, () => (writer = new BinaryWriter()));
}
