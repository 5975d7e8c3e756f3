import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingHttpHeaders } from "node:http";
import http2 from "node:http2";
import type { HttpHandlers, RequestHandler, StreamHandler } from "./listener.js";
import { respondGrpcError } from "./grpc-status.js";
import { FRAME_HEADER_BYTES, grpcFrame, unframe } from "./grpc-frame.js";
import { grpcTimeoutMs } from "./grpc-timeout.js";
import type { PeerIdentity } from "./peer-identity.js";
import { keep, keptCost, requestBufferBudget, type RequestBufferBudget } from "./request-buffer-budget.js";

/** A unary method's descriptor, as generated (`Service.method.x`). */
export interface UnaryMethod<I extends DescMessage, O extends DescMessage> {
  readonly name: string;
  readonly methodKind: "unary";
  readonly parent: { readonly typeName: string };
  readonly input: I;
  readonly output: O;
}

/**
 * One method served on the lean path: raw request message in, raw response
 * message out. The call's headers (its gRPC metadata) go along untouched,
 * for a handler that reads call metadata such as a trace parent.
 */
export interface GrpcUnaryRoute {
  readonly path: string;
  /** The full name of the method's service, `portcullis.v1.AuthorizationService`. */
  readonly service: string;
  /** Replaces the default limit for this method's request message. */
  readonly readMaxBytes?: number;
  /**
   * `signal`, when the call has a deadline, fires when it passes or the client resets the stream first;
   * `peer` is the connection's verified client certificate (`GrpcUnaryOptions.peerOf`).
   */
  call(message: Uint8Array, headers: IncomingHttpHeaders, signal?: AbortSignal, peer?: PeerIdentity): Promise<Uint8Array>;
}

export interface GrpcUnaryOptions {
  /** Largest request message accepted (after decompression), unless the route says otherwise. */
  readMaxBytes: number;
  /**
   * Memory held for request bodies at once across every stream, from the
   * first byte until the call is answered: many bodies left unfinished must
   * not add up to more than this. A stream that would go over is refused.
   */
  bufferMaxBytes: number;
  /** The same for the streams of one HTTP/2 connection, so one client cannot take the whole budget. */
  bufferMaxBytesPerConnection: number;
  /** The one error table: whatever a call throws becomes a ConnectError (its code is the gRPC status). */
  toConnectError(error: unknown): ConnectError;
  /** Throws when this stream's connection may not call `service` (caller identity); the call is then refused unread. */
  admit?(stream: http2.ServerHttp2Stream, service: string): void;
  /** The verified client certificate of a connection (mTLS), handed to every call; absent without a client CA. */
  peerOf?(session: http2.Http2Session): PeerIdentity | undefined;
}

/** Default for `bufferMaxBytes`: room for dozens of Envoy CheckRequests at their 1 MiB limit, thousands of ordinary ones. */
export const DEFAULT_BUFFER_MAX_BYTES = 64 * 1024 * 1024;
/** Default for `bufferMaxBytesPerConnection`: a sixteenth of the process budget, four Check requests at their limit. */
export const DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION = 4 * 1024 * 1024;

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/i;
const ACCEPT_ENCODING = "identity,gzip";
// node copies headers it is given, so one object serves every answer.
const OK_HEADERS: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc", "grpc-accept-encoding": ACCEPT_ENCODING };
const OK_TRAILERS: http2.OutgoingHttpHeaders = { "grpc-status": "0" };
const ignore = () => undefined;

export function grpcUnaryRoute<I extends DescMessage, O extends DescMessage>(
  method: UnaryMethod<I, O>,
  call: (request: MessageShape<I>, headers: IncomingHttpHeaders, signal?: AbortSignal) => Promise<MessageShape<O>>,
  limits: { readMaxBytes?: number } = {},
): GrpcUnaryRoute {
  return grpcUnaryEncodedRoute(method, async (request, headers, signal) => toBinary(method.output, await call(request, headers, signal)), limits);
}

type EncodedCall<R> = (request: R, headers: IncomingHttpHeaders, signal?: AbortSignal, peer?: PeerIdentity) => Promise<Uint8Array>;

/**
 * The same for a handler that writes its response message's bytes itself
 * (Envoy's CheckResponse, encoded cheaply). `decode` reads the request
 * message instead of protobuf-es's fromBinary, when given: whatever it
 * throws makes the call INVALID_ARGUMENT, as a malformed message does.
 */
export function grpcUnaryEncodedRoute<I extends DescMessage, O extends DescMessage>(
  method: UnaryMethod<I, O>,
  call: EncodedCall<MessageShape<I>>,
  limits?: { readMaxBytes?: number },
): GrpcUnaryRoute;
export function grpcUnaryEncodedRoute<I extends DescMessage, O extends DescMessage, R>(
  method: UnaryMethod<I, O>,
  call: EncodedCall<R>,
  limits: { readMaxBytes?: number; decode: (message: Uint8Array) => R },
): GrpcUnaryRoute;
export function grpcUnaryEncodedRoute<I extends DescMessage, O extends DescMessage, R>(
  method: UnaryMethod<I, O>,
  call: EncodedCall<R>,
  limits: { readMaxBytes?: number; decode?: (message: Uint8Array) => R } = {},
): GrpcUnaryRoute {
  // The overloads pair a call without `decode` with MessageShape<I>, so R is fromBinary's type here.
  const decode = limits.decode ?? ((message: Uint8Array) => fromBinary(method.input, message) as R);
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    service: method.parent.typeName,
    readMaxBytes: limits.readMaxBytes,
    call(message, headers, signal, peer) {
      let request: R;
      try {
        request = decode(message);
      } catch {
        return Promise.reject(new ConnectError(`malformed ${method.input.typeName} message`, Code.InvalidArgument));
      }
      return call(request, headers, signal, peer);
    },
  };
}

/**
 * Serves the given unary methods for gRPC over HTTP/2 straight on the
 * node:http2 stream, before node's compatibility API makes a request and a
 * response of it; it takes nothing else (Connect, gRPC-Web, JSON, other
 * paths), and HTTP/1.1 never reaches it. connect-node allocates abort
 * signals and stream machinery per call, which caps a decision RPC at about
 * a tenth of what node:http2 carries, and the compat objects cost another
 * share (docs/transport-limits.md); the hot decision methods are framed by
 * hand here instead.
 */
export function leanGrpcStreams(routes: readonly GrpcUnaryRoute[], options: GrpcUnaryOptions): StreamHandler {
  const byPath = new Map(routes.map((route) => [route.path, route]));
  const budget = requestBufferBudget({
    maxBytes: options.bufferMaxBytes,
    maxBytesPerConnection: options.bufferMaxBytesPerConnection,
  });
  return (stream, headers) => {
    const route = byPath.get(headers[":path"] ?? "");
    if (route === undefined || headers[":method"] !== "POST" || !GRPC_CONTENT_TYPE.test(headers["content-type"] ?? "")) return false;
    // Any other expectation is left to the compat API, which refuses it (417) as node does for every request.
    if (headers.expect !== undefined && headers.expect !== "100-continue") return false;
    // A client's RST_STREAM surfaces as an error event; unheard, it would end the process.
    stream.on("error", ignore);
    if (options.admit !== undefined) {
      try {
        options.admit(stream, route.service);
      } catch (error) {
        refuseUnread(stream, options.toConnectError(error));
        return true;
      }
    }
    // As node's compat API does before handing on the request: the client may send its body now.
    if (headers.expect !== undefined) stream.additionalHeaders({ ":status": 100 });
    serve(route, stream, headers, options, budget);
    return true;
  };
}

/** The lean path in front of one handler that serves everything else. */
export function withGrpcUnary(routes: readonly GrpcUnaryRoute[], options: GrpcUnaryOptions, next: RequestHandler): HttpHandlers {
  return { stream: leanGrpcStreams(routes, options), request: next };
}

function serve(
  route: GrpcUnaryRoute,
  stream: http2.ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options: GrpcUnaryOptions,
  budget: RequestBufferBudget,
): void {
  const encoding = typeof headers["grpc-encoding"] === "string" ? headers["grpc-encoding"] : "identity";
  if (encoding !== "identity" && encoding !== "gzip") {
    return refuseUnread(stream, new ConnectError(`unknown compression "${encoding}": supported are ${ACCEPT_ENCODING}`, Code.Unimplemented));
  }
  let timeoutMs: number | undefined;
  try {
    timeoutMs = grpcTimeoutMs(headers["grpc-timeout"]);
  } catch (error) {
    return refuseUnread(stream, error as ConnectError);
  }
  const readMaxBytes = route.readMaxBytes ?? options.readMaxBytes;
  const limit = FRAME_HEADER_BYTES + readMaxBytes;
  const chunks: Buffer[] = [];
  let received = 0;
  const session = stream.session;
  // Reset before its handler ran: nothing to read or answer.
  if (session === undefined) return;
  const account = budget.account(session);
  /** What this stream's chunks keep alive, charged to its connection and the process. */
  let held = 0;
  /** The memory block behind the last chunk kept, charged already. */
  let paidFor: ArrayBufferLike | undefined;
  /** Answered (or refused, or past its deadline): nothing more is read, done or written. */
  let answered = false;
  const release = () => {
    budget.release(account, held);
    held = 0;
  };
  const answerEarly = (error: ConnectError) => {
    answered = true;
    chunks.length = 0;
    release();
    fail(stream, error);
    // The answer is complete; RST_STREAM NO_ERROR asks the client to stop sending the rest (RFC 9113 §8.1).
    stream.close(http2.constants.NGHTTP2_NO_ERROR);
  };
  const refuse = (message: string) => answerEarly(new ConnectError(message, Code.ResourceExhausted));
  /** When the call's deadline passes (performance.now()), if it has one; a timer can fire late, this cannot. */
  let deadline: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  /**
   * The deadline handed to the decision, so that it stops waiting (on an IdP,
   * on Redis) when the call is answered DEADLINE_EXCEEDED. Only a call with
   * a deadline pays for one.
   */
  let expiry: AbortController | undefined;
  if (timeoutMs !== undefined) {
    if (timeoutMs === 0) return answerEarly(deadlineExceeded(headers));
    deadline = performance.now() + timeoutMs;
    const controller = (expiry = new AbortController());
    timer = setTimeout(() => {
      if (!answered) answerEarly(deadlineExceeded(headers));
      controller.abort();
    }, timeoutMs);
  }
  // Each event comes once per stream; `on` spares the wrapper objects `once` makes for every call.
  stream.on("close", () => {
    clearTimeout(timer);
    release();
    // Reset by the client before its answer: nobody waits for the decision any longer.
    if (!answered) expiry?.abort();
  });
  stream.on("data", (chunk: Buffer) => {
    if (answered) return;
    if (received + chunk.length > limit) return refuse(`message is larger than ${readMaxBytes} bytes`);
    const kept = keep(chunk);
    const cost = keptCost(kept, paidFor);
    const over = budget.charge(account, cost);
    if (over === "connection") {
      return refuse(`connection busy: more than ${options.bufferMaxBytesPerConnection} bytes of its requests in flight`);
    }
    if (over === "process") return refuse(`server busy: more than ${options.bufferMaxBytes} bytes of requests in flight`);
    received += kept.length;
    held += cost;
    paidFor = kept.buffer;
    chunks.push(kept);
  });
  const failWith = (error: unknown) => {
    if (answered) return;
    answered = true;
    fail(stream, options.toConnectError(error));
  };
  const reply = (message: Uint8Array) => {
    if (answered) return;
    if (deadline !== undefined && performance.now() > deadline) return answerEarly(deadlineExceeded(headers));
    answered = true;
    succeed(stream, message);
  };
  const call = (message: Uint8Array) => {
    // Past the deadline while the message inflated: the call is not even started.
    if (answered) return;
    let pending: Promise<Uint8Array>;
    try {
      pending = route.call(message, headers, expiry?.signal, stream.session && options.peerOf?.(stream.session));
    } catch (error) {
      return failWith(error);
    }
    pending.then(reply, failWith);
  };
  stream.on("end", () => {
    if (answered) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    let message: Uint8Array | Promise<Uint8Array>;
    try {
      message = unframe(body, encoding === "gzip", readMaxBytes);
    } catch (error) {
      return failWith(error);
    }
    // Most calls are not compressed: their message is at hand, without waiting for a microtask.
    if (message instanceof Uint8Array) call(message);
    else message.then(call, failWith);
  });
}

function deadlineExceeded(headers: IncomingHttpHeaders): ConnectError {
  return new ConnectError(`deadline exceeded: no answer within grpc-timeout ${String(headers["grpc-timeout"])}`, Code.DeadlineExceeded);
}

/** Headers, the one message, then grpc-status 0 in the trailers. */
function succeed(stream: http2.ServerHttp2Stream, message: Uint8Array): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(OK_HEADERS, RESPOND_OPTIONS);
  stream.on("wantTrailers", sendOkTrailers);
  stream.end(grpcFrame(message));
}

const RESPOND_OPTIONS = { waitForTrailers: true };

/** One listener for every answered stream: node emits "wantTrailers" once, on the stream (`this`). */
function sendOkTrailers(this: http2.ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** Reads nothing: the call is refused as a whole. */
function refuseUnread(stream: http2.ServerHttp2Stream, error: ConnectError): void {
  stream.resume();
  fail(stream, error);
}

function fail(stream: http2.ServerHttp2Stream, error: ConnectError): void {
  respondGrpcError(stream, error, { "grpc-accept-encoding": ACCEPT_ENCODING });
}
