import { create, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { expect } from "vitest";
import { toConnectError } from "../../src/api/error-mapping.js";
import { grpcUnaryRoute, withGrpcUnary } from "../../src/http/grpc-unary.js";
import { DEFAULT_LISTENER_LIMITS, listen, type Listener, type RequestHandler } from "../../src/http/listener.js";
import { AuthorizationService, AuthorizeRequestSchema, type AuthorizeRequest, type AuthorizeResponse } from "../../gen/portcullis/v1/authorization_pb.js";

export const AUTHORIZE_PATH = "/portcullis.v1.AuthorizationService/Authorize";

/** An AuthorizeRequest asking about `resource`, encoded (not framed). */
export function authorizeMessage(resource: string): Uint8Array {
  return toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { resource }));
}

export interface LeanLimits {
  readMaxBytes: number;
  bufferMaxBytes: number;
  bufferMaxBytesPerConnection: number;
}

/** Limits small enough for a test to reach: a 1 KiB message, 1 MiB of bodies in flight. */
export const SMALL_LEAN_LIMITS: LeanLimits = { readMaxBytes: 1024, bufferMaxBytes: 1024 * 1024, bufferMaxBytesPerConnection: 1024 * 1024 };

/**
 * The lean gRPC path serving Authorize with `authorize` on a port of its
 * own, in front of `next` for whatever it leaves; without `next`, anything
 * passed on fails the test.
 */
export async function startLeanAuthorize(
  authorize: (request: AuthorizeRequest) => Promise<AuthorizeResponse>,
  options: { limits?: LeanLimits; next?: RequestHandler } = {},
): Promise<{ listener: Listener; url: string }> {
  const log = pino({ level: "silent" });
  const handler = withGrpcUnary(
    [grpcUnaryRoute(AuthorizationService.method.authorize, authorize)],
    { ...(options.limits ?? SMALL_LEAN_LIMITS), toConnectError: (error) => toConnectError(error, log) },
    options.next ?? (() => expect.fail("passed on")),
  );
  const listener = await listen("127.0.0.1", 0, handler, DEFAULT_LISTENER_LIMITS);
  return { listener, url: `http://127.0.0.1:${listener.address.port}` };
}
