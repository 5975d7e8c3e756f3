import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttributeContext_HttpRequestSchema, AttributeContextSchema } from "../../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { CheckRequestSchema, type CheckRequest } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { decisionRequestOf, type CheckRequestFields } from "../../src/envoy/check-request.js";
import { decodeCheckRequest, readCheckRequest } from "../../src/envoy/check-request-decoder.js";
import { checkRequest as envoyCheckRequest, upstreamCheckRequestBytes } from "../support/envoy-client.js";

/** What a decision can see of a CheckRequest, as plain data (map entries in their order). */
function seen(check: CheckRequestFields): unknown {
  const attributes = check.attributes;
  if (attributes === undefined) return undefined;
  const address = attributes.source?.address?.address;
  const http = attributes.request?.http;
  return {
    source: attributes.source === undefined ? "none" : address === undefined ? "no address" : address.case === "socketAddress" ? address.value.address : "other",
    request: attributes.request === undefined ? "none" : http === undefined ? "no http" : {
      method: http.method,
      path: http.path,
      host: http.host,
      headers: Object.entries(http.headers),
      headerMap: http.headerMap?.headers.map((header) => [header.key, header.value, [...header.rawValue]]),
    },
    contextExtensions: Object.entries(attributes.contextExtensions),
  };
}

/** protobuf-es's reading, or undefined where it refuses the bytes. */
function reference(bytes: Uint8Array): CheckRequest | undefined {
  try {
    return fromBinary(CheckRequestSchema, bytes);
  } catch {
    return undefined;
  }
}

/** Where the reader answers, protobuf-es reads the same message without an error, and the decision asks the same question. */
function expectAgreement(bytes: Uint8Array): void {
  const read = readCheckRequest(bytes);
  if (read === undefined) return;
  const generic = reference(bytes);
  expect(generic).toBeDefined();
  expect(seen(read)).toEqual(seen(generic!));
  expect(decisionRequestOf(read)).toEqual(decisionRequestOf(generic!));
}

// A message as field records, so that fields can come in any order, twice, under another wire type or unknown.
type Record = { no: number; wire: WireType; value: Uint8Array | number };

function encode(records: readonly Record[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const { no, wire, value } of records) {
    writer.tag(no, wire);
    if (wire === WireType.Varint) writer.uint64(BigInt(value as number));
    else if (wire === WireType.Bit32) writer.fixed32(value as number);
    else if (wire === WireType.Bit64) writer.fixed64(BigInt(value as number));
    else writer.bytes(value as Uint8Array);
  }
  return writer.finish();
}

const text = fc.oneof(
  fc.constantFrom("", "GET", "/a", "api.example.com", "Bearer pcl_x", "__proto__", "constructor", "authorization", ":authority", "host", "tool", "rule"),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const stringBytes = fc.oneof(
  { weight: 80, arbitrary: text.map((value) => new TextEncoder().encode(value)) },
  // Not UTF-8, or cut inside a character.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }) },
);
const unknown = fc.record({
  // Mostly numbers no message here has; now and then a known field's under another wire type.
  no: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 14, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 13 }) }),
  wire: fc.constantFrom(WireType.Varint, WireType.Bit32, WireType.Bit64, WireType.LengthDelimited),
  value: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 8 })),
}).map(({ no, wire, value }): Record => ({ no, wire, value: wire === WireType.LengthDelimited ? (typeof value === "number" ? new Uint8Array() : value) : typeof value === "number" ? value : 7 }));
const field = (no: number, value: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Record> => value.map((bytes) => ({ no, wire: WireType.LengthDelimited, value: bytes }));
const varintField = (no: number): fc.Arbitrary<Record> => fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((value) => ({ no, wire: WireType.Varint, value }));
const message = (...fields: fc.Arbitrary<Record>[]): fc.Arbitrary<Uint8Array> =>
  fc.array(fc.oneof({ weight: 1, arbitrary: unknown }, ...fields.map((arbitrary) => ({ weight: 4, arbitrary }))), { maxLength: 6 }).map(encode);
const mapEntry = (no: number) => field(no, message(field(1, stringBytes), field(2, stringBytes)));

const socketAddress = message(field(2, stringBytes), varintField(3));
const address = message(field(1, socketAddress));
const peer = message(field(1, address));
const headerValue = message(field(1, stringBytes), field(2, stringBytes), field(3, fc.uint8Array({ maxLength: 4 })));
const http = message(
  ...[1, 2, 4, 5, 6, 7, 8, 10].map((no) => field(no, stringBytes)),
  mapEntry(3),
  mapEntry(3),
  varintField(9),
  field(13, message(field(1, headerValue))),
);
const request = message(field(2, http));
const attributes = message(field(1, peer), field(4, request), mapEntry(10), mapEntry(10));
const checkRequest = message(field(1, attributes));

/** A CheckRequest with only what Envoy sends and a decision reads, as protobuf-es writes it. */
const envoyLike = fc
  .record({
    method: fc.constantFrom("GET", "POST"),
    path: fc.string({ unit: fc.constantFrom(..."/abc?=&%"), maxLength: 20 }),
    host: fc.domain(),
    headers: fc.dictionary(fc.string({ unit: fc.constantFrom(..."abcxyz-:"), minLength: 1, maxLength: 8 }), fc.string({ unit: fc.constantFrom(..."abc XYZ=,;"), maxLength: 20 })),
    source: fc.ipV4(),
    port: fc.integer({ min: 0, max: 65535 }),
    extensions: fc.dictionary(fc.constantFrom("tool", "rule", "required_scope", "other"), fc.string({ unit: fc.constantFrom(..."abc:_"), maxLength: 8 })),
  })
  .map(({ method, path, host, headers, source, port, extensions }) =>
    toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          source: { address: { address: { case: "socketAddress", value: { address: source, portSpecifier: { case: "portValue", value: port } } } } },
          request: { http: { method, path, host, headers } },
          contextExtensions: extensions,
        },
      }),
    ),
  );

/** Bytes changed the ways a message is damaged: a byte overwritten, bytes cut or put in. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 3 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = [...bytes];
  for (const change of mutations) {
    const at = out.length === 0 ? 0 : change.at % (out.length + (change.kind === "insert" ? 1 : 0));
    if (change.kind === "set" && out.length > 0) out[at] = change.byte;
    else if (change.kind === "cut") out = [...out.slice(0, at), ...out.slice(at + change.length)];
    else if (change.kind === "insert") out = [...out.slice(0, at), ...change.bytes, ...out.slice(at)];
  }
  return new Uint8Array(out);
}

const ENVOY_CHECK = create(CheckRequestSchema, {
  attributes: {
    source: { address: { address: { case: "socketAddress", value: { address: "192.0.2.10", portSpecifier: { case: "portValue", value: 51234 } } } } },
    request: {
      http: {
        id: "4711",
        method: "GET",
        path: "/reports/1?x=1",
        host: "api.example.com",
        scheme: "https",
        protocol: "HTTP/2",
        size: 0n,
        headers: { ":authority": "api.example.com", ":method": "GET", ":path": "/reports/1?x=1", authorization: "Bearer pcl_abc" },
      },
    },
    contextExtensions: { rule: "reports" },
  },
});

/** Fields of a real Envoy's CheckRequest that Portcullis' protos leave out (destination, request time, TLS session). */
function withEnvoyOnlyFields(check: CheckRequest): Uint8Array {
  const { request, ...rest } = check.attributes!;
  const time = encode([{ no: 1, wire: WireType.Varint, value: 1_764_600_000 }, { no: 2, wire: WireType.Varint, value: 5000 }]);
  const destination = encode([{ no: 4, wire: WireType.LengthDelimited, value: new TextEncoder().encode("spiffe://x") }]);
  const requestBytes = encode([
    { no: 1, wire: WireType.LengthDelimited, value: time },
    { no: 2, wire: WireType.LengthDelimited, value: toBinary(AttributeContext_HttpRequestSchema, request!.http!) },
  ]);
  const attributes = [
    ...encode([{ no: 2, wire: WireType.LengthDelimited, value: destination }]),
    ...toBinary(AttributeContextSchema, create(AttributeContextSchema, rest)),
    ...encode([
      { no: 4, wire: WireType.LengthDelimited, value: requestBytes },
      { no: 12, wire: WireType.LengthDelimited, value: new Uint8Array() },
    ]),
  ];
  return encode([{ no: 1, wire: WireType.LengthDelimited, value: new Uint8Array(attributes) }]);
}

describe("the CheckRequest reader of the lean gRPC path", () => {
  it("reads what protobuf-es reads from a CheckRequest as Envoy sends it", () => {
    const bytes = toBinary(CheckRequestSchema, ENVOY_CHECK);
    expect(readCheckRequest(bytes)).toBeDefined();
    expectAgreement(bytes);
  });

  it("skips the fields Envoy sends that Portcullis' protos leave out, and reads the rest", () => {
    const bytes = withEnvoyOnlyFields(ENVOY_CHECK);
    const read = readCheckRequest(bytes);
    expect(read?.attributes?.request?.http?.path).toBe("/reports/1?x=1");
    expectAgreement(bytes);
  });

  it("reads what protobuf-es reads from a CheckRequest written with Envoy's own protos, every field Envoy fills in", () => {
    const envoy = envoyCheckRequest({ path: "/reports/1", headers: { authorization: "Bearer pcl_abc", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }) as {
      attributes: { request: { http: object } };
    };
    const bytes = upstreamCheckRequestBytes({
      attributes: {
        ...envoy.attributes,
        source: { address: { socket_address: { address: "192.0.2.10", port_value: 51234 } }, principal: "spiffe://client" },
        destination: { address: { socket_address: { address: "10.0.0.5", port_value: 8443 } }, principal: "spiffe://gateway", labels: { zone: "a" } },
        request: { ...envoy.attributes.request, http: { ...envoy.attributes.request.http, size: "-1", body: "", query: "x=1", fragment: "" } },
        metadata_context: { filter_metadata: {} },
        route_metadata_context: {},
        tls_session: { sni: "api.example.com" },
      },
    });
    const read = readCheckRequest(bytes);
    expect(read?.attributes?.request?.http?.headers.authorization).toBe("Bearer pcl_abc");
    expect(read?.attributes?.source?.address?.address).toEqual({ case: "socketAddress", value: { address: "192.0.2.10" } });
    expectAgreement(bytes);
  });

  it.each<[string, Uint8Array]>([
    ["a host that is not UTF-8", encode([{ no: 1, wire: 2, value: encode([{ no: 4, wire: 2, value: encode([{ no: 2, wire: 2, value: encode([{ no: 5, wire: 2, value: new Uint8Array([0xc3, 0x28]) }]) }]) }]) }])],
    ["a message cut short", toBinary(CheckRequestSchema, ENVOY_CHECK).subarray(0, 40)],
    ["a varint that never ends", new Uint8Array([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
    ["field number 0", new Uint8Array([0x02, 0x00])],
    ["an end-group tag with no group", new Uint8Array([0x0c])],
    // protobuf-es reads a string field whatever its wire type: here the varint 3 as a length, past the end.
    ["a method sent as a varint", encode([{ no: 1, wire: 2, value: encode([{ no: 4, wire: 2, value: encode([{ no: 2, wire: 2, value: encode([{ no: 2, wire: 0, value: 3 }]) }]) }]) }])],
  ])("leaves %s to protobuf-es, which refuses it, so the call is refused", (_name, bytes) => {
    expect(readCheckRequest(bytes)).toBeUndefined();
    expect(() => decodeCheckRequest(bytes)).toThrow();
  });

  it.each<[string, Uint8Array]>([
    ["attributes given twice, which protobuf merges", encode([
      { no: 1, wire: 2, value: encode([{ no: 10, wire: 2, value: encode([{ no: 1, wire: 2, value: new TextEncoder().encode("rule") }, { no: 2, wire: 2, value: new TextEncoder().encode("a") }]) }]) },
      { no: 1, wire: 2, value: encode([{ no: 4, wire: 2, value: encode([{ no: 2, wire: 2, value: encode([{ no: 2, wire: 2, value: new TextEncoder().encode("GET") }]) }]) }]) },
    ])],
    ["raw headers (header_map)", toBinary(CheckRequestSchema, create(CheckRequestSchema, { attributes: { request: { http: { method: "GET", headerMap: { headers: [{ key: "authorization", value: "Bearer x" }] } } } } }))],
    ["a header that is not ASCII", toBinary(CheckRequestSchema, create(CheckRequestSchema, { attributes: { request: { http: { headers: { "x-name": "Jürgen" } } } } }))],
    ["a header named __proto__", toBinary(CheckRequestSchema, create(CheckRequestSchema, { attributes: { contextExtensions: { ["__proto__"]: "x" } } }))],
  ])("leaves %s to protobuf-es, whose reading the decision then gets", (_name, bytes) => {
    expect(readCheckRequest(bytes)).toBeUndefined();
    const generic = fromBinary(CheckRequestSchema, bytes);
    expect(seen(decodeCheckRequest(bytes))).toEqual(seen(generic));
  });

  it("answers only where protobuf-es reads the same fields from any message", () => {
    fc.assert(fc.property(checkRequest, expectAgreement), { numRuns: 2000 });
  });

  it("answers only where protobuf-es reads the same fields from any damaged message", () => {
    fc.assert(
      fc.property(fc.oneof(checkRequest, envoyLike), fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, mutations) => expectAgreement(mutate(bytes, mutations))),
      { numRuns: 3000 },
    );
  });

  it("answers for every message built from the fields a decision reads", () => {
    fc.assert(
      fc.property(envoyLike, (bytes) => {
        expect(readCheckRequest(bytes)).toBeDefined();
        expectAgreement(bytes);
      }),
    );
  });
});
