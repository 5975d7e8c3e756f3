import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import { enforceRequestDeadline } from "./request-deadline.js";

export type RequestHandler = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

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

export interface Listener {
  readonly address: AddressInfo;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * One port for HTTP/2 cleartext with prior knowledge (Envoy, gRPC clients,
 * `buf curl --http2-prior-knowledge`) and HTTP/1.1 (curl, probes). The first
 * bytes decide; an HTTP/2 socket is handed to node:http2 without being
 * resumed, so it stays on the native HTTP/2 path (see
 * docs/transport-limits.md).
 */
export async function listen(host: string, port: number, handler: RequestHandler, limits: ListenerLimits): Promise<Listener> {
  const h2 = http2.createServer(
    {
      settings: { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: MAX_HEADER_LIST_BYTES },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    },
    handler,
  );
  h2.on("stream", (stream, headers) => enforceRequestDeadline(stream, headers, limits.requestReadTimeoutMs));
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
  const sockets = new Set<Socket>();
  /** Connected, but not yet sent enough bytes to tell HTTP/2 from HTTP/1.1. */
  const unrouted = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const server = net.createServer((socket) => {
    sockets.add(socket);
    unrouted.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      unrouted.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    routeByPreface(socket, h2, h1, () => unrouted.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    address: server.address() as AddressInfo,
    async close(graceMs) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // A connection that has not sent a request yet has nothing in flight.
      for (const socket of unrouted) socket.destroy();
      for (const session of sessions) session.close();
      // Closes idle connections and stops h1's connection-checking timer.
      h1.close();
      // HTTP/1.1 keep-alive connections that become idle later are closed too.
      h1.on("request", (_request, response) => response.setHeader("connection", "close"));
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        h1.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

function routeByPreface(socket: Socket, h2: http2.Http2Server, h1: http.Server, routed: () => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = protocolOf(seen);
    if (protocol === undefined) return;
    clearTimeout(timer);
    routed();
    socket.off("data", onData);
    socket.pause();
    socket.unshift(seen);
    if (protocol === "h2") {
      // node:http2 replays the buffered bytes itself; resuming here would lose them.
      h2.emit("connection", socket);
    } else {
      h1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("data", onData);
  socket.once("close", () => clearTimeout(timer));
}

function protocolOf(seen: Buffer): "h1" | "h2" | undefined {
  const compared = Math.min(seen.length, H2_PREFACE.length);
  if (!seen.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared))) return "h1";
  return seen.length >= H2_PREFACE.length ? "h2" : undefined;
}
