import type { ConnectError } from "@connectrpc/connect";
import type http2 from "node:http2";
import { grpcMessageValue } from "../http-semantics/percent-encoding.js";

/** Any gRPC request, whatever its codec (`application/grpc`, `+proto`, `+json`); not gRPC-Web. */
export const GRPC_REQUEST_CONTENT_TYPE = /^application\/grpc([+;]|$)/i;

/**
 * A trailers-only gRPC error: one HEADERS frame carrying the status and
 * ending the stream, written on the stream itself (node's compat response
 * would send the headers and an empty trailer frame apart).
 */
export function respondGrpcError(stream: http2.ServerHttp2Stream, error: ConnectError, headers: http2.OutgoingHttpHeaders = {}): void {
  // A stream the client reset is closed before it is destroyed; node throws on a write to either.
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(error.code),
      "grpc-message": grpcMessageValue(error.rawMessage),
      ...headers,
    },
    { endStream: true },
  );
}
