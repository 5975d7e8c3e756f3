import { createContextKey } from "@connectrpc/connect";
import type http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import type { RequestHandler } from "./listener.js";

/**
 * Who is on the other end of the connection, as its verified client
 * certificate (mTLS) says. Read by the caller-identity gate, and by handlers
 * (audit log, upstream tokens) through `peerIdentityKey`.
 */
export interface PeerIdentity {
  /**
   * The certificate's names in the syntax caller-identity rules use: each
   * URI SAN as written (a SPIFFE ID, `spiffe://…`), each DNS SAN as
   * `dns:<name>` in lower case. Other SAN kinds (IP, email) are left out.
   */
  readonly names: readonly string[];
  /** SHA-256 fingerprint of the certificate, for logs when it has no name. */
  readonly fingerprint256: string;
}

/**
 * The verified peer identity of a Connect call, set by the wiring
 * (`connectNodeAdapter({ contextValues })`); undefined on a cleartext or
 * TLS-without-client-certificate connection. Handlers read it with
 * `context.values.get(peerIdentityKey)`.
 */
export const peerIdentityKey = createContextKey<PeerIdentity | undefined>(undefined, { description: "verified client certificate" });

type Request = Parameters<RequestHandler>[0];

/** The peer identity of a request's connection, or of an HTTP/2 session (a stream served raw). */
export interface PeerIdentityReader {
  ofRequest(request: Request): PeerIdentity | undefined;
  ofSession(session: http2.Http2Session): PeerIdentity | undefined;
}

/**
 * Reads the peer identity of a connection once (an HTTP/2 connection
 * carries many calls). Only a certificate the TLS handshake verified
 * counts; anything else is no identity.
 */
export function peerIdentityReader(): PeerIdentityReader {
  const known = new WeakMap<object, PeerIdentity | null>();
  const read = (connection: object, socket: TLSSocket) => {
    let identity = known.get(connection);
    if (identity === undefined) {
      identity = verifiedIdentity(socket) ?? null;
      known.set(connection, identity);
    }
    return identity ?? undefined;
  };
  return {
    ofRequest(request) {
      const connection = "stream" in request ? (request as http2.Http2ServerRequest).stream.session ?? request.socket : request.socket;
      return read(connection, request.socket as TLSSocket);
    },
    ofSession: (session) => read(session, session.socket as TLSSocket),
  };
}

function verifiedIdentity(socket: TLSSocket): PeerIdentity | undefined {
  if (socket.encrypted !== true || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  if (certificate === null || certificate.fingerprint256 === undefined) return undefined;
  return { names: namesOf(certificate.subjectaltname), fingerprint256: certificate.fingerprint256 };
}

/** One entry of Node's subjectaltname text: `KIND:value`, the value JSON-quoted when it holds a special character. */
const SAN_ENTRY = String.raw`([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)`;

/**
 * The URI and DNS names of Node's `subjectaltname` text
 * (`DNS:gw.example, URI:spiffe://example.org/gw`). Text it cannot read
 * yields no names at all: a certificate is never matched on a guess.
 */
export function namesOf(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined || subjectAltName === "") return [];
  const names: string[] = [];
  const entry = new RegExp(SAN_ENTRY, "y");
  while (entry.lastIndex < subjectAltName.length) {
    const match = entry.exec(subjectAltName);
    if (match === null) return [];
    const value = sanValue(match[2]!);
    if (value === undefined) return [];
    if (match[1] === "URI") names.push(value);
    if (match[1] === "DNS") names.push(`dns:${value.toLowerCase()}`);
  }
  return names;
}

function sanValue(raw: string): string | undefined {
  if (!raw.startsWith('"')) return raw;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}
