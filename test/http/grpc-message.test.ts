import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toConnectError } from "../../src/api/error-mapping.js";
import { withSpecGrpcMessage } from "../../src/http/grpc-message-trailer.js";
import { grpcUnaryRoute, withGrpcUnary } from "../../src/http/grpc-unary.js";
import { DEFAULT_LISTENER_LIMITS, listen, type Listener } from "../../src/http/listener.js";
import { grpcMessageValue } from "../../src/http-semantics/percent-encoding.js";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { grpcJsUnary } from "../support/grpc-js-unary.js";

/** Each method fails with the text its request carries, so any message can be sent back. */
const failWith = (message: string): never => {
  throw new ConnectError(message, Code.InvalidArgument);
};

const MESSAGES = [
  ['reserved URI characters: scopes: "*" cannot be minted', 'scopes: "*" cannot be minted'],
  ["every printable ASCII character", ` !"#$%&'()*+,-./09:;<=>?@AZ[\\]^_\`az{|}~`],
  ["non-ASCII text", "Größe überschritten: 100 % ✓ 日本語 🚪"],
  ["control characters", "line one\nline two\ttab"],
  ["spaces at both ends", "  padded  "],
];

describe("grpc-message as grpc-js reads it", () => {
  let listener: Listener;
  let url: string;
  beforeAll(async () => {
    const log = pino({ level: "silent" });
    const connect = connectNodeAdapter({
      routes: (router) =>
        router.service(AuthorizationService, {
          authorize: (request) => failWith(request.resource),
          resolveLibraries: (request) => failWith(request.authorization),
        }),
    });
    const handler = withGrpcUnary(
      [grpcUnaryRoute(AuthorizationService.method.authorize, async (request) => failWith(request.resource))],
      {
        readMaxBytes: 1024,
        bufferMaxBytes: 1024 * 1024,
        bufferMaxBytesPerConnection: 1024 * 1024,
        toConnectError: (error) => toConnectError(error, log),
      },
      withSpecGrpcMessage(connect),
    );
    listener = await listen("127.0.0.1", 0, handler, DEFAULT_LISTENER_LIMITS);
    url = `http://127.0.0.1:${listener.address.port}`;
  });
  afterAll(async () => {
    await listener?.close(1000);
  });

  it.each(MESSAGES)("arrives as written from connect-node's handlers: %s", async (_name, message) => {
    const outcome = await grpcJsUnary(url, AuthorizationService.method.resolveLibraries, { authorization: message });
    expect(outcome).toEqual({ code: status.INVALID_ARGUMENT, details: message });
  });

  it.each(MESSAGES)("arrives as written from the lean path: %s", async (_name, message) => {
    const outcome = await grpcJsUnary(url, AuthorizationService.method.authorize, { resource: message });
    expect(outcome).toEqual({ code: status.INVALID_ARGUMENT, details: message });
  });
});

describe("the grpc-message encoding", () => {
  it("keeps printable ASCII but %, and writes every other byte of the UTF-8 text as %XX", () => {
    expect(grpcMessageValue('scopes: "*" cannot be minted')).toBe('scopes: "*" cannot be minted');
    expect(grpcMessageValue("scope: größer 100%")).toBe("scope: gr%C3%B6%C3%9Fer 100%25");
    expect(grpcMessageValue("a\nb\u007f")).toBe("a%0Ab%7F");
    expect(grpcMessageValue(" a b ")).toBe("%20a b%20");
  });

  it("never throws, a lone surrogate included", () => {
    expect(grpcMessageValue("x\ud800y")).toBe("x%EF%BF%BDy");
  });
});
