import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Decision } from "../decision/decision.js";
import { resetOnThrow } from "../http/reset-on-throw.js";
import { accessLogMetadata, DENIED_HEADERS, deniedAnswer, IDENTITY_HEADERS, identityHeaderValues, overwrite } from "./check-response.js";
import type { EnvoySettings } from "./envoy-settings.js";
import { HeaderValueOptionSchema, HeaderValueSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { CheckResponseSchema, DeniedHttpResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";

/** A decision as the bytes of Envoy's CheckResponse message. */
export type CheckResponseEncoder = (decision: Decision) => Uint8Array;

// Field numbers of envoy.service.auth.v3 and google.protobuf messages written below.
const CHECK_STATUS = 1;
const CHECK_DENIED = 2;
const CHECK_OK = 3;
const CHECK_METADATA = 4;
const STATUS_CODE = 1;
const STATUS_MESSAGE = 2;
const HEADER_OPTION = 2;
const HEADER = 1;
const HEADER_VALUE = 2;
const HEADERS_TO_REMOVE = 5;
const DENIED_BODY = 3;
const STRUCT_FIELDS = 1;
const MAP_KEY = 1;
const MAP_VALUE = 2;
const VALUE_STRING = 3;

/**
 * The CheckResponse of `checkResponseOf`, written straight to bytes for the
 * lean gRPC path: the same message (test/envoy/check-response-encoder.test.ts
 * decodes both and compares them), without building protobuf-es messages
 * and a google.protobuf.Struct per call. What does not change between
 * decisions (the allow status, each identity header's name, a denial's
 * status and fixed headers, the metadata keys) is encoded once, by
 * protobuf-es itself, when the encoder is made.
 */
export function checkResponseEncoder(settings: EnvoySettings): CheckResponseEncoder {
  const allowStatus = toBinary(CheckResponseSchema, create(CheckResponseSchema, { status: { code: 0 } }));
  /** HeaderValueOption's fields after `header`: the append action. */
  const overwriteAction = toBinary(HeaderValueOptionSchema, create(HeaderValueOptionSchema, { ...overwrite("", ""), header: undefined }));
  const headerKey = (name: string) => toBinary(HeaderValueSchema, create(HeaderValueSchema, { key: name }));
  const names = IDENTITY_HEADERS.map((key) => settings.identityHeaders[key]);
  const identityKeys = names.map(headerKey);
  const removals = names.map((name) => new BinaryWriter().tag(HEADERS_TO_REMOVE, WireType.LengthDelimited).string(name).finish());
  const authorizationRemoval = new BinaryWriter().tag(HEADERS_TO_REMOVE, WireType.LengthDelimited).string("authorization").finish();
  const challengeKey = headerKey("www-authenticate");
  /** A denial's status and fixed headers, by HTTP status (401 or 403). */
  const deniedPrefixes = new Map<StatusCode, Uint8Array>();
  const deniedPrefix = (status: StatusCode) => {
    let prefix = deniedPrefixes.get(status);
    if (prefix === undefined) {
      const denied = { status: { code: status }, headers: DENIED_HEADERS.map(([name, value]) => overwrite(name, value)) };
      prefix = toBinary(DeniedHttpResponseSchema, create(DeniedHttpResponseSchema, denied));
      deniedPrefixes.set(status, prefix);
    }
    return prefix;
  };
  /** A metadata entry's key field, by key: the keys are the few accessLogMetadata names. */
  const metadataKeys = new Map<string, Uint8Array>();
  const metadataKey = (key: string) => {
    let encoded = metadataKeys.get(key);
    if (encoded === undefined) {
      encoded = new BinaryWriter().tag(MAP_KEY, WireType.LengthDelimited).string(key).finish();
      metadataKeys.set(key, encoded);
    }
    return encoded;
  };
  const headerOption = (key: Uint8Array, value: string) =>
    writer
      .tag(HEADER_OPTION, WireType.LengthDelimited)
      .fork()
      .tag(HEADER, WireType.LengthDelimited)
      .fork()
      .raw(key)
      .tag(HEADER_VALUE, WireType.LengthDelimited)
      .string(value)
      .join()
      .raw(overwriteAction)
      .join();

  // One writer for every call: encoding is synchronous, and its buffer, grown once, is reused (finish() copies out).
  let writer = new BinaryWriter();
  const encode = (decision: Decision) => {
    if (decision.allowed) {
      writer.raw(allowStatus).tag(CHECK_OK, WireType.LengthDelimited).fork();
      const values = identityHeaderValues(decision.identity);
      // Set headers first, then removed ones: Envoy applies them in that order, and checkResponseOf lists them so.
      for (let index = 0; index < values.length; index++) {
        if (values[index] !== "") headerOption(identityKeys[index]!, values[index]!);
      }
      for (let index = 0; index < values.length; index++) {
        if (values[index] === "") writer.raw(removals[index]!);
      }
      if (settings.removeAuthorization) writer.raw(authorizationRemoval);
      writer.join();
    } else {
      const denied = deniedAnswer(decision, settings);
      // A denial's code is never 0 and its reason never empty: both are written, as proto3 writes non-defaults.
      writer
        .tag(CHECK_STATUS, WireType.LengthDelimited)
        .fork()
        .tag(STATUS_CODE, WireType.Varint)
        .int32(denied.grpcCode)
        .tag(STATUS_MESSAGE, WireType.LengthDelimited)
        .string(decision.reason)
        .join();
      writer.tag(CHECK_DENIED, WireType.LengthDelimited).fork().raw(deniedPrefix(denied.httpStatus));
      if (denied.challenge !== undefined) headerOption(challengeKey, denied.challenge);
      writer.tag(DENIED_BODY, WireType.LengthDelimited).string(denied.body).join();
    }
    // google.protobuf.Struct: map<string, Value> fields = 1; every value here is a string_value.
    writer.tag(CHECK_METADATA, WireType.LengthDelimited).fork();
    for (const [key, value] of Object.entries(accessLogMetadata(decision))) {
      writer
        .tag(STRUCT_FIELDS, WireType.LengthDelimited)
        .fork()
        .raw(metadataKey(key))
        .tag(MAP_VALUE, WireType.LengthDelimited)
        .fork()
        .tag(VALUE_STRING, WireType.LengthDelimited)
        .string(value)
        .join()
        .join();
    }
    writer.join();
    return writer.finish();
  };
  return resetOnThrow(encode, () => (writer = new BinaryWriter()));
}
