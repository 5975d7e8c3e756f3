import type { Static } from "@sinclair/typebox";
import { positiveInteger, section } from "../settings-schema/schema-kit.js";
import { DEFAULT_BUFFER_MAX_BYTES, DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION } from "./grpc-unary.js";
import { DEFAULT_LISTENER_LIMITS, type ListenerLimits } from "./listener.js";

export const httpSchema = section("What one client may hold open before its requests are complete.", {
  max_concurrent_streams: positiveInteger({
    env: "PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS",
    default: DEFAULT_LISTENER_LIMITS.maxConcurrentStreams,
    description:
      "HTTP/2 streams one connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`); clients queue beyond it, streams opened regardless are refused (`REFUSED_STREAM`)",
  }),
  request_read_timeout_ms: positiveInteger({
    env: "PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS",
    default: DEFAULT_LISTENER_LIMITS.requestReadTimeoutMs,
    description:
      "time (ms) a client has, from a request's start, to send all of it (headers and body): then a gRPC call gets `DEADLINE_EXCEEDED` and its stream is reset, another HTTP/2 stream is reset (`CANCEL`), HTTP/1.1 gets `408` and the connection closes",
  }),
  request_buffer_max_bytes: positiveInteger({
    env: "PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES",
    default: DEFAULT_BUFFER_MAX_BYTES,
    description:
      "memory the lean gRPC path (`Check`, gRPC `Authorize`) may hold for request bodies at once, across all streams, until each call is answered (counted as what the bytes keep alive: a chunk that is under a quarter of the socket read it arrived in is copied out, a larger one counts as its whole read, plus 384 bytes a chunk for its objects; so never less than the bytes, never more than four times them); a stream that would go over gets `RESOURCE_EXHAUSTED`. Keep it well above 1 MiB, the largest `CheckRequest` accepted",
  }),
  request_buffer_max_bytes_per_connection: positiveInteger({
    env: "PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES_PER_CONNECTION",
    default: DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION,
    description:
      "the same, for the streams of one HTTP/2 connection, so that one client cannot take the whole budget from the others. Envoy sends many `Check` calls over one connection: keep it above the largest `CheckRequest` times the calls one connection carries at once",
  }),
});

/** How much a client may hold open before its requests are complete (src/http/listener.ts, grpc-unary.ts). */
export interface HttpLimitsConfig extends ListenerLimits {
  /** Memory the lean gRPC path holds for request bodies at once, across every stream. */
  requestBufferMaxBytes: number;
  /** The part of requestBufferMaxBytes one connection may hold. */
  requestBufferMaxBytesPerConnection: number;
}

export function httpLimits(file: Static<typeof httpSchema> = {}): HttpLimitsConfig {
  return {
    maxConcurrentStreams: file.max_concurrent_streams ?? DEFAULT_LISTENER_LIMITS.maxConcurrentStreams,
    requestReadTimeoutMs: file.request_read_timeout_ms ?? DEFAULT_LISTENER_LIMITS.requestReadTimeoutMs,
    requestBufferMaxBytes: file.request_buffer_max_bytes ?? DEFAULT_BUFFER_MAX_BYTES,
    requestBufferMaxBytesPerConnection: file.request_buffer_max_bytes_per_connection ?? DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION,
  };
}
