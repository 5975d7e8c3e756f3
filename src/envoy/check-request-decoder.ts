import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import type { CheckRequestFields, HttpRequestFields } from "./check-request.js";
import { AddressSchema, SocketAddressSchema } from "../../gen/envoy/config/core/v3/address_pb.js";
import {
  AttributeContext_HttpRequestSchema,
  AttributeContext_PeerSchema,
  AttributeContext_RequestSchema,
  AttributeContextSchema,
} from "../../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";

/**
 * A CheckRequest's bytes, read for a decision: by `readCheckRequest` when it
 * is sure, otherwise by protobuf-es, which then also decides what is
 * malformed (it throws). Either way the decision sees the same fields.
 */
export function decodeCheckRequest(message: Uint8Array): CheckRequestFields {
  return readCheckRequest(message) ?? fromBinary(CheckRequestSchema, message);
}

/**
 * The fields a decision reads, straight from the bytes of the CheckRequests
 * Envoy sends, without protobuf-es building every nested message (and its
 * garbage) per call. It answers only where protobuf-es's fromBinary reads
 * the same values without an error, and is `undefined` (unsure) anywhere
 * two readers could part: a wire type other than the field's own, a
 * singular message given twice (protobuf merges those), a group, a varint
 * or a length longer than it needs to be here, a nested message running
 * past its parent, a string that is not plain ASCII (UTF-8 validation is
 * left to protobuf-es), a `__proto__` map key, or `header_map` (raw
 * headers). Unknown fields are skipped, as protobuf-es skips them. The
 * property tests in test/envoy/check-request-decoder.test.ts hold it to
 * fromBinary on random and mutated messages.
 */
export function readCheckRequest(message: Uint8Array): CheckRequestFields | undefined {
  try {
    // The lean path hands over a Buffer; anything else is viewed as one, without a copy.
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    return new CheckRequestReader(bytes).checkRequest();
  } catch {
    return undefined;
  }
}

// Wire types.
const VARINT = 0;
const BIT64 = 1;
const LENGTH_DELIMITED = 2;
const BIT32 = 5;

/** Thrown where the reader is unsure: protobuf-es reads the message instead. */
const UNSURE = Symbol("unsure");

/** Field numbers of the envoy.service.auth.v3 and envoy.config.core.v3 messages read here. */
const FIELD = {
  checkAttributes: 1,
  contextSource: 1,
  contextRequest: 4,
  contextExtensions: 10,
  peerAddress: 1,
  addressSocketAddress: 1,
  socketAddressAddress: 2,
  socketAddressPortValue: 3,
  requestHttp: 2,
  httpId: 1,
  httpMethod: 2,
  httpHeaders: 3,
  httpPath: 4,
  httpHost: 5,
  httpScheme: 6,
  httpQuery: 7,
  httpFragment: 8,
  httpSize: 9,
  httpProtocol: 10,
  httpHeaderMap: 13,
  mapKey: 1,
  mapValue: 2,
} as const;

type Writable<T> = { -readonly [K in keyof T]: T[K] };
type Attributes = Writable<NonNullable<CheckRequestFields["attributes"]>>;

class CheckRequestReader {
  private pos = 0;

  constructor(private readonly bytes: Buffer) {}

  checkRequest(): CheckRequestFields {
    const attributes = this.onlyMessage(this.bytes.length, FIELD.checkAttributes, KNOWN.checkRequest, (end) => this.attributes(end));
    return attributes === undefined ? {} : { attributes };
  }

  private attributes(end: number): Attributes {
    const attributes: Attributes = { contextExtensions: {} };
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === ((FIELD.contextSource << 3) | LENGTH_DELIMITED)) attributes.source = this.peer(this.once(attributes.source, end));
      else if (tag === ((FIELD.contextRequest << 3) | LENGTH_DELIMITED)) attributes.request = this.request(this.once(attributes.request, end));
      else if (tag === ((FIELD.contextExtensions << 3) | LENGTH_DELIMITED)) this.mapEntry(attributes.contextExtensions, end);
      else this.known(tag, KNOWN.attributes, end);
    }
    return attributes;
  }

  private peer(end: number): NonNullable<Attributes["source"]> {
    const address = this.onlyMessage(end, FIELD.peerAddress, KNOWN.peer, (inner) => this.address(inner));
    return address === undefined ? {} : { address };
  }

  private address(end: number): { address: { case: "socketAddress"; value: { address: string } } | { case: undefined } } {
    const socketAddress = this.onlyMessage(end, FIELD.addressSocketAddress, KNOWN.address, (inner) => this.socketAddress(inner));
    return { address: socketAddress === undefined ? { case: undefined } : { case: "socketAddress", value: socketAddress } };
  }

  private socketAddress(end: number): { address: string } {
    let address = "";
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === ((FIELD.socketAddressAddress << 3) | LENGTH_DELIMITED)) address = this.string(end);
      else if (tag === ((FIELD.socketAddressPortValue << 3) | VARINT)) this.skipVarint(end);
      else this.known(tag, KNOWN.socketAddress, end);
    }
    return { address };
  }

  private request(end: number): { http?: HttpRequestFields } {
    const http = this.onlyMessage(end, FIELD.requestHttp, KNOWN.request, (inner) => this.http(inner));
    return http === undefined ? {} : { http };
  }

  private http(end: number): HttpRequestFields {
    const http = { method: "", path: "", host: "", headers: {} as Record<string, string> };
    while (this.pos < end) {
      const tag = this.tag(end);
      const field = tag >>> 3;
      if ((tag & 7) === LENGTH_DELIMITED && HTTP_STRINGS.has(field)) {
        if (field === FIELD.httpMethod) http.method = this.string(end);
        else if (field === FIELD.httpPath) http.path = this.string(end);
        else if (field === FIELD.httpHost) http.host = this.string(end);
        // A string not read is still checked, so that one protobuf-es would refuse is never passed over.
        else this.pos = this.ascii(end);
      } else if (tag === ((FIELD.httpHeaders << 3) | LENGTH_DELIMITED)) this.mapEntry(http.headers, end);
      else if (tag === ((FIELD.httpSize << 3) | VARINT)) this.skipVarint(end);
      else this.known(tag, KNOWN.http, end);
    }
    return http;
  }

  /** One entry of a map<string, string>; a later one for the same key replaces it, as protobuf-es does. */
  private mapEntry(record: Record<string, string>, parentEnd: number): void {
    const end = this.lengthDelimited(parentEnd);
    let key = "";
    let value = "";
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === ((FIELD.mapKey << 3) | LENGTH_DELIMITED)) key = this.string(end);
      else if (tag === ((FIELD.mapValue << 3) | LENGTH_DELIMITED)) value = this.string(end);
      else throw UNSURE;
    }
    // protobuf-es defines "__proto__" as an own key; assigning it would set the prototype instead.
    if (key === "__proto__") throw UNSURE;
    record[key] = value;
  }

  /** The one message field a message is read for, read by `read`; the message's other fields are checked and skipped. */
  private onlyMessage<T>(end: number, field: number, known: ReadonlySet<number>, read: (end: number) => T): T | undefined {
    let value: T | undefined;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === ((field << 3) | LENGTH_DELIMITED)) value = read(this.once(value, end));
      else this.known(tag, known, end);
    }
    return value;
  }

  /** A singular message field's end; given twice, protobuf merges the two, which is not done here. */
  private once(seen: unknown, parentEnd: number): number {
    if (seen !== undefined) throw UNSURE;
    return this.lengthDelimited(parentEnd);
  }

  /** A field of this message under another wire type (or one not read here) is read differently by each reader. */
  private known(tag: number, fields: ReadonlySet<number>, end: number): void {
    if (fields.has(tag >>> 3)) throw UNSURE;
    this.skip(tag, end);
  }

  /** An unknown field, skipped: only the wire types whose extent every reader agrees on. */
  private skip(tag: number, end: number): void {
    switch (tag & 7) {
      case VARINT:
        return this.skipVarint(end);
      case BIT64:
        return this.advance(8, end);
      case BIT32:
        return this.advance(4, end);
      case LENGTH_DELIMITED:
        this.pos = this.lengthDelimited(end);
        return;
      default:
        throw UNSURE;
    }
  }

  private tag(end: number): number {
    const tag = this.varint28(end);
    if (tag >>> 3 === 0) throw UNSURE;
    return tag;
  }

  /** Where a length-delimited field's contents end, inside its parent. */
  private lengthDelimited(parentEnd: number): number {
    const length = this.varint28(parentEnd);
    const end = this.pos + length;
    if (end > parentEnd) throw UNSURE;
    return end;
  }

  private string(parentEnd: number): string {
    const end = this.ascii(parentEnd);
    const start = this.pos;
    this.pos = end;
    // Plain ASCII reads the same in every encoding; node's latin1 decoding of a Buffer is its quickest.
    return this.bytes.toString("latin1", start, end);
  }

  /** Where a string field's contents end, when they are plain ASCII, which protobuf-es reads as the same text. */
  private ascii(parentEnd: number): number {
    const end = this.lengthDelimited(parentEnd);
    const bytes = this.bytes;
    for (let at = this.pos; at < end; at++) if (bytes[at]! > 0x7f) throw UNSURE;
    return end;
  }

  /** A varint of at most 4 bytes: below 2^28, where protobuf-es's uint32 reads the same number. */
  private varint28(end: number): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= end) throw UNSURE;
      const byte = this.bytes[this.pos++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    throw UNSURE;
  }

  /** A varint of at most 10 bytes, the longest any protobuf varint is; its value is not needed. */
  private skipVarint(end: number): void {
    for (let read = 0; read < 10; read++) {
      if (this.pos >= end) throw UNSURE;
      if (this.bytes[this.pos++]! < 0x80) return;
    }
    throw UNSURE;
  }

  private advance(length: number, end: number): void {
    if (this.pos + length > end) throw UNSURE;
    this.pos += length;
  }
}

const HTTP_STRINGS: ReadonlySet<number> = new Set([
  FIELD.httpId,
  FIELD.httpMethod,
  FIELD.httpPath,
  FIELD.httpHost,
  FIELD.httpScheme,
  FIELD.httpQuery,
  FIELD.httpFragment,
  FIELD.httpProtocol,
]);

/**
 * Every field number each message has, from the descriptors Portcullis is
 * built with: any other is unknown to protobuf-es too, and skipped; a known
 * one not read here (a field the protos gain) makes the reader unsure.
 */
const KNOWN = {
  checkRequest: fieldNumbers(CheckRequestSchema),
  attributes: fieldNumbers(AttributeContextSchema),
  peer: fieldNumbers(AttributeContext_PeerSchema),
  address: fieldNumbers(AddressSchema),
  socketAddress: fieldNumbers(SocketAddressSchema),
  request: fieldNumbers(AttributeContext_RequestSchema),
  http: fieldNumbers(AttributeContext_HttpRequestSchema),
};

function fieldNumbers(schema: DescMessage): ReadonlySet<number> {
  return new Set(schema.fields.map((field) => field.number));
}
