import { Code, ConnectError } from "@connectrpc/connect";
import http2 from "node:http2";
import { GRPC_REQUEST_CONTENT_TYPE, respondGrpcError } from "./grpc-status.js";

/**
 * node:http2 has no counterpart of node:http's requestTimeout: a stream whose
 * body never ends keeps whatever its handler buffered for as long as the
 * connection lives. Each stream gets `timeoutMs` from its headers to deliver
 * the rest of its request. Then a gRPC call is answered DEADLINE_EXCEEDED,
 * and the stream is reset either way, which frees its buffers on both sides.
 */
export function enforceRequestDeadline(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, timeoutMs: number): void {
  if (stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.state.remoteClose) return;
    const answered = !stream.headersSent && GRPC_REQUEST_CONTENT_TYPE.test(headers["content-type"] ?? "");
    if (answered) respondGrpcError(stream, new ConnectError(`request not received within ${timeoutMs} ms`, Code.DeadlineExceeded));
    // After a complete answer, NO_ERROR only asks the client to stop sending (RFC 9113 §8.1).
    stream.close(answered ? http2.constants.NGHTTP2_NO_ERROR : http2.constants.NGHTTP2_CANCEL);
  }, timeoutMs);
  // "close" comes once; `on` spares the wrapper objects `once` makes for every stream.
  stream.on("close", () => clearTimeout(timer));
}
