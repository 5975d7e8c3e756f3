import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import tls from "node:tls";
import { enforceRequestDeadline } from "./request-deadline.js";

export type RequestHandler = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/**
 * Sees each HTTP/2 stream before node's compatibility API does, and answers
 * true when it serves the stream itself on the raw stream API; the stream
 * then never becomes a request/response pair.
 */
export type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

/** What the port serves: every request (both protocols), and optionally HTTP/2 streams taken before that. */
export interface HttpHandlers {
  request: RequestHandler;
  stream?: StreamHandler;
}

type CompatStreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0", "latin1");
const SNIFF_TIMEOUT_MS = 10_000;
/**
 * HTTP/2 request headers Portcullis accepts (decoded, RFC 9113 §6.5.2): ample
 * for a bearer token at its 8 KiB cap; Envoy sends the headers it asks about
 * inside the CheckRequest message, not as headers.
 */
const MAX_HEADER_LIST_BYTES = 32 * 1024;
/**
 * Memory one connection may tie up in node:http2 (nghttp2's buffers and
 * received data not yet released), in MB; node's default. Beyond it new
 * streams are refused with ENHANCE_YOUR_CALM.
 */
const MAX_SESSION_MEMORY_MB = 10;

/** What one client may hold open on the port before its requests are complete. */
export interface ListenerLimits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS on every HTTP/2 connection; streams beyond it are refused. */
  maxConcurrentStreams: number;
  /** Time from a request's start until the whole request (headers and body) has arrived, on both protocols. */
  requestReadTimeoutMs: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = { maxConcurrentStreams: 128, requestReadTimeoutMs: 10_000 };

/**
 * TLS on the port: the certificate and key (and, for mTLS, the CA client
 * certificates must chain to), and whether a client must present one.
 */
export interface ListenerTls {
  /** cert, key, ca, minVersion: everything the context is built from (a later setSecureContext replaces all of it). */
  context: tls.SecureContextOptions;
  /** mTLS: a client without a certificate the context's CA signed is refused during the handshake. */
  requireClientCertificate: boolean;
}

export interface Listener {
  readonly address: AddressInfo;
  /** Whether the port speaks TLS (else h2c and HTTP/1.1 in cleartext). */
  readonly secure: boolean;
  /**
   * New credentials for connections accepted from now on; established ones
   * keep the context they were made with. Only on a TLS listener.
   */
  setSecureContext(context: tls.SecureContextOptions): void;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * One port for HTTP/2 and HTTP/1.1. In cleartext (h2c with prior knowledge
 * for Envoy, gRPC clients and `buf curl --http2-prior-knowledge`; HTTP/1.1
 * for curl and probes) the first bytes decide; over TLS, ALPN does (`h2`, or
 * `http/1.1`/none). Either way the socket is handed to node:http2 as it is,
 * so the lean gRPC path stays native (see docs/transport-limits.md). Each
 * HTTP/2 stream goes to `handlers.stream` first (the lean gRPC path), and to
 * the request handler only when that leaves it.
 */
export async function listen(
  host: string,
  port: number,
  handlers: RequestHandler | HttpHandlers,
  limits: ListenerLimits,
  secure?: ListenerTls,
): Promise<Listener> {
  const { request: handler, stream: takeStream } = typeof handlers === "function" ? { request: handlers, stream: undefined } : handlers;
  const h2 = http2.createServer({
    settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: MAX_HEADER_LIST_BYTES },
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
  });
  h2.on("request", handler);
  const compat = detachCompatLayer(h2);
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    enforceRequestDeadline(stream, headers, limits.requestReadTimeoutMs);
    if (takeStream !== undefined && takeStream(stream, headers)) return;
    compat(stream, headers, flags, rawHeaders);
  });
  const h1 = http.createServer(
    {
      requestTimeout: limits.requestReadTimeoutMs,
      headersTimeout: limits.requestReadTimeoutMs,
      // node:http checks both timeouts on this interval (30 s by default), not per request.
      connectionsCheckingInterval: Math.min(1000, limits.requestReadTimeoutMs),
    },
    handler,
  );
  // h1 never listens itself (sockets are handed to it), but node:http only
  // tracks connections after "listening": without it closeIdleConnections()
  // is a no-op and headersTimeout/requestTimeout are never enforced.
  h1.emit("listening");
  /** Every accepted TCP connection, cut at the end of close(). */
  const connections = new Set<Socket>();
  /** Connections handed to h1 or h2 (over TLS: the TLS socket), while open: close() lets them finish. */
  const routed = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let closing = false;
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const route = (socket: Socket, protocol: "h1" | "h2") => {
    // Shutting down: a connection that has not sent a request yet has nothing in flight.
    if (closing) return socket.destroy();
    routed.add(socket);
    socket.once("close", () => routed.delete(socket));
    if (protocol === "h2") {
      h2.emit("connection", socket);
    } else {
      h1.emit("connection", socket);
      // A sniffed socket was paused to put its first bytes back.
      socket.resume();
    }
  };
  const accept = (socket: Socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  let server: net.Server;
  let tlsServer: tls.Server | undefined;
  if (secure === undefined) {
    server = net.createServer((socket) => {
      accept(socket);
      routeByPreface(socket, route);
    });
  } else {
    tlsServer = tls.createServer({
      ...secure.context,
      ALPNProtocols: ["h2", "http/1.1"],
      requestCert: secure.requireClientCertificate,
      rejectUnauthorized: secure.requireClientCertificate,
      // A client that does not finish its handshake is dropped as one that sends nothing in cleartext.
      handshakeTimeout: SNIFF_TIMEOUT_MS,
    });
    tlsServer.on("connection", accept);
    // node only reports a failed or timed-out handshake here and leaves the socket open: without this a client
    // that sends its ClientHello and then nothing would hold its connection for ever, past handshakeTimeout.
    tlsServer.on("tlsClientError", (_error, socket) => socket.destroy());
    tlsServer.on("secureConnection", (socket: tls.TLSSocket) => {
      socket.on("error", () => socket.destroy());
      route(socket, socket.alpnProtocol === "h2" ? "h2" : "h1");
    });
    server = tlsServer;
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    address: server.address() as AddressInfo,
    secure: tlsServer !== undefined,
    setSecureContext(context) {
      if (tlsServer === undefined) throw new Error("a cleartext listener has no TLS context");
      tlsServer.setSecureContext(context);
    },
    async close(graceMs) {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      // Closes idle connections and stops h1's connection-checking timer.
      h1.close();
      // HTTP/1.1 keep-alive connections that become idle later are closed too.
      h1.on("request", (_request, response) => response.setHeader("connection", "close"));
      const deadline = Date.now() + graceMs;
      while (routed.size > 0 && Date.now() < deadline) {
        h1.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const socket of routed) socket.destroy();
      // Including connections still sniffed or in their TLS handshake.
      for (const socket of connections) socket.destroy();
      await stopped;
    },
  };
}

/**
 * node:http2's compatibility API is itself a "stream" listener, which the
 * server adds along with its first "request" listener and which makes a
 * request/response pair of every stream (and emits "request"). Taken off the
 * server, it is called only for the streams the raw handler leaves, so a
 * stream served raw is answered once and costs no compat objects.
 */
function detachCompatLayer(h2: http2.Http2Server): CompatStreamListener {
  const listeners = h2.listeners("stream");
  if (listeners.length !== 1) throw new Error(`node:http2 added ${listeners.length} "stream" listeners for its compatibility API, expected 1`);
  const compat = listeners[0] as CompatStreamListener;
  h2.off("stream", compat);
  return compat;
}

function routeByPreface(socket: Socket, route: (socket: Socket, protocol: "h1" | "h2") => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = protocolOf(seen);
    if (protocol === undefined) return;
    clearTimeout(timer);
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    // node:http2 replays the buffered bytes itself; resuming here would lose them.
    route(socket, protocol);
  };
  socket.on("data", onData);
  socket.once("close", () => clearTimeout(timer));
}

function protocolOf(seen: Buffer): "h1" | "h2" | undefined {
  const compared = Math.min(seen.length, H2_PREFACE.length);
  if (!seen.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared))) return "h1";
  return seen.length >= H2_PREFACE.length ? "h2" : undefined;
}
