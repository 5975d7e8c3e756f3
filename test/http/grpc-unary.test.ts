import { create, fromBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import type { Listener } from "../../src/http/listener.js";
import { AuthorizationService, AuthorizeResponseSchema, Decision, type AuthorizeRequest, type AuthorizeResponse } from "../../gen/portcullis/v1/authorization_pb.js";
import { eventually } from "../support/eventually.js";
import { AUTHORIZE_PATH, authorizeMessage as request, startLeanAuthorize, type LeanLimits } from "../support/lean-authorize.js";
import { grpcFrame, openRawGrpcStream, rawGrpcCall, type RawGrpcStream } from "../support/raw-grpc.js";

/**
 * A transport-level stand-in for the engine: it echoes the resource as the
 * reason, and the resource can ask it to fail, so every outcome is visible.
 */
async function echoAuthorize(request: AuthorizeRequest): Promise<AuthorizeResponse> {
  if (request.resource === "fail:unavailable") throw new UnavailableError("redis unavailable");
  if (request.resource === "fail:bug") throw new TypeError("secret internals");
  return create(AuthorizeResponseSchema, { decision: Decision.ALLOW, reason: request.resource });
}


describe("the lean gRPC unary path in front of connect-node", () => {
  let listener: Listener;
  let url: string;
  const passedOn: string[] = [];
  beforeAll(async () => {
    const connect = connectNodeAdapter({
      routes: (router) => router.service(AuthorizationService, { authorize: echoAuthorize, resolveLibraries: async () => ({ libraries: [] }) }),
    });
    ({ listener, url } = await startLeanAuthorize(echoAuthorize, {
      next: (req, res) => {
        passedOn.push(`${req.httpVersion} ${req.headers["content-type"]}`);
        connect(req, res);
      },
    }));
  });
  beforeEach(() => {
    passedOn.length = 0;
  });
  afterAll(async () => {
    await listener?.close(1000);
  });

  it("answers gRPC over HTTP/2 itself: headers, one framed message, then grpc-status 0 in trailers", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("GET /x")));
    expect(passedOn).toEqual([]);
    expect(reply.trailersOnly).toBe(false);
    expect(reply.headers["content-type"]).toBe("application/grpc");
    expect(reply.trailers["grpc-status"]).toBe("0");
    expect(reply.body.readUInt32BE(1)).toBe(reply.body.length - 5);
    expect(fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason).toBe("GET /x");
  });

  it("accepts a gzip-compressed request message", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(gzipSync(request("GET /zipped")), 1), { "grpc-encoding": "gzip" });
    expect(reply.status).toBe(0);
    expect(fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason).toBe("GET /zipped");
  });

  it.each([
    ["a message that is not protobuf", grpcFrame(Buffer.from([0xff, 0xff, 0xff])), {}, 3, "malformed portcullis.v1.AuthorizeRequest message"],
    ["a message over the size limit", grpcFrame(Buffer.alloc(1025)), {}, 8, "message is larger than 1024 bytes"],
    ["an unknown compression", grpcFrame(request("x")), { "grpc-encoding": "br" }, 12, 'unknown compression "br": supported are identity,gzip'],
    ["a compressed frame without grpc-encoding", grpcFrame(request("x"), 1), {}, 3, "protocol error: compressed message without grpc-encoding"],
    ["unknown frame flags", grpcFrame(request("x"), 0x80), {}, 3, "protocol error: unknown frame flags 0x80"],
    ["gzip that is not gzip", grpcFrame(request("x"), 1), { "grpc-encoding": "gzip" }, 3, "protocol error: message is not valid gzip"],
    ["no message at all", Buffer.alloc(0), {}, 12, "protocol error: missing request message"],
    ["a truncated frame", grpcFrame(request("GET /x")).subarray(0, 7), {}, 3, "protocol error: frame promised 8 bytes, got 2"],
    ["two messages for a unary method", Buffer.concat([grpcFrame(request("a")), grpcFrame(request("b"))]), {}, 12, "protocol error: more than one request message for a unary method"],
  ])("refuses %s with a trailers-only gRPC error", async (_name, body, headers, status, message) => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, body, headers);
    expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, status, message]);
    expect(reply.body.length).toBe(0);
  });

  it("answers an oversized request before reading all of it and stops the client sending", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(Buffer.alloc(4 * 1024 * 1024)));
    expect([reply.trailersOnly, reply.status]).toEqual([true, 8]);
  });

  it("maps an outage to UNAVAILABLE and hides anything unexpected behind INTERNAL", async () => {
    const outage = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("fail:unavailable")));
    expect([outage.trailersOnly, outage.status, outage.message]).toEqual([true, 14, "redis unavailable"]);
    const bug = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("fail:bug")));
    expect([bug.status, bug.message]).toEqual([13, "internal error"]);
  });

  it("leaves Connect, gRPC-Web and JSON over HTTP/1.1 to connect-node", async () => {
    const clients = [
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false }),
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true }),
      createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true }),
      createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: false }),
    ].map((transport) => createClient(AuthorizationService, transport));
    for (const client of clients) expect((await client.authorize({ resource: "GET /y" })).reason).toBe("GET /y");
    expect(passedOn).toEqual([
      "1.1 application/json",
      "1.1 application/proto",
      "1.1 application/grpc-web+proto",
      "2.0 application/json",
    ]);
  });

  it("keeps serving after a client goes away with its requests half sent or whole but unanswered", async () => {
    const session = http2.connect(url);
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    for (let index = 0; index < 5; index++) openRawGrpcStream(session, AUTHORIZE_PATH).stream.write(grpcFrame(request("GET /cut")).subarray(0, 3));
    for (let index = 0; index < 5; index++) openRawGrpcStream(session, AUTHORIZE_PATH).stream.end(grpcFrame(request("GET /whole")));
    session.destroy();
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("GET /after")));
    expect([reply.status, fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason]).toEqual([0, "GET /after"]);
  });

  it("answers Expect: 100-continue before the body as node does, and leaves any other expectation to node (417)", async () => {
    const session = http2.connect(url);
    try {
      const call = openRawGrpcStream(session, AUTHORIZE_PATH, { expect: "100-continue" });
      await new Promise((resolve) => call.stream.once("continue", resolve));
      call.stream.end(grpcFrame(request("GET /continued")));
      const reply = await call.reply;
      expect([reply.status, fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason]).toEqual([0, "GET /continued"]);
      const other = openRawGrpcStream(session, AUTHORIZE_PATH, { expect: "something-else" });
      other.stream.end(grpcFrame(request("GET /x")));
      expect((await other.reply).headers[":status"]).toBe(417);
      expect(passedOn).toEqual([]);
    } finally {
      session.close();
    }
  });

  it("leaves paths it does not serve to the next handler", async () => {
    const reply = await rawGrpcCall(url, "/portcullis.v1.AuthorizationService/ResolveLibraries", grpcFrame(new Uint8Array()));
    expect(reply.status).toBe(0);
    expect(passedOn).toEqual(["2.0 application/grpc"]);
  });
});

describe("the lean gRPC path's memory bounds", () => {
  const listeners: Listener[] = [];
  /** A lean-path-only server: anything it would pass on fails the test. */
  const start = async (limits: LeanLimits) => {
    const { listener, url } = await startLeanAuthorize(echoAuthorize, { limits });
    listeners.push(listener);
    return url;
  };
  afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.close(1000)));
  });

  it("refuses a gzip bomb (under 64 KB inflating to 50 MB) with RESOURCE_EXHAUSTED, inflating no further than the limit", async () => {
    const url = await start({ readMaxBytes: 1024 * 1024, bufferMaxBytes: 64 * 1024 * 1024, bufferMaxBytesPerConnection: 4 * 1024 * 1024 });
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(bomb, 1), { "grpc-encoding": "gzip" });
    expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, 8, "message is larger than 1048576 bytes"]);
  });

  it("holds no more unfinished request bytes than its budget: the stream that would pass it gets RESOURCE_EXHAUSTED", async () => {
    const url = await start({ readMaxBytes: 16 * 1024, bufferMaxBytes: 35_000, bufferMaxBytesPerConnection: 35_000 });
    // One connection each, so that no connection's own limit is what refuses.
    const sessions = Array.from({ length: 4 }, () => http2.connect(url));
    try {
      // Four bodies of 10,000 bytes, none finished: any three fit, the fourth does not, whichever arrives last.
      const calls = sessions.map((session) => openRawGrpcStream(session, AUTHORIZE_PATH));
      for (const call of calls) call.stream.write(grpcFrame(Buffer.alloc(12_000)).subarray(0, 10_000));
      const refused = await Promise.race(calls.map((call) => call.reply));
      expect([refused.trailersOnly, refused.status, refused.message]).toEqual([true, 8, "server busy: more than 35000 bytes of requests in flight"]);

      // Abandoned calls give their bytes back: afterwards a whole request fits again.
      for (const call of calls) call.stream.close(http2.constants.NGHTTP2_CANCEL);
      await Promise.all(calls.map((call) => call.reply));
      const resource = "GET /after".padEnd(12_000, ".");
      const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request(resource)));
      expect([reply.status, fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason]).toEqual([0, resource]);
    } finally {
      for (const session of sessions) session.close();
    }
  });

  it("counts a finished request's bytes only until it is answered", async () => {
    const url = await start({ readMaxBytes: 16 * 1024, bufferMaxBytes: 35_000, bufferMaxBytesPerConnection: 35_000 });
    for (const resource of ["GET /one", "GET /two", "GET /three", "GET /four"]) {
      const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request(resource.padEnd(10_000, "."))));
      expect(reply.status).toBe(0);
    }
  });

  it("holds no more for one connection than its own limit, while another connection is still served", async () => {
    const url = await start({ readMaxBytes: 16 * 1024, bufferMaxBytes: 1024 * 1024, bufferMaxBytesPerConnection: 25_000 });
    const greedy = http2.connect(url);
    try {
      // Three bodies of 10,000 bytes, none finished, on one connection: two fit its 25,000 bytes, the third does not.
      const calls: RawGrpcStream[] = [];
      for (let index = 0; index < 3; index++) {
        const call = openRawGrpcStream(greedy, AUTHORIZE_PATH);
        call.stream.write(grpcFrame(Buffer.alloc(12_000)).subarray(0, 10_000));
        calls.push(call);
        await new Promise((resolve) => greedy.ping(resolve));
      }
      const refused = await calls[2]!.reply;
      expect([refused.trailersOnly, refused.status, refused.message]).toEqual([
        true,
        8,
        "connection busy: more than 25000 bytes of its requests in flight",
      ]);
      const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("GET /other".padEnd(10_000, "."))));
      expect(reply.status).toBe(0);
    } finally {
      greedy.close();
    }
  });

  it("gives back what a connection held when the connection goes, not only when its streams end", async () => {
    const url = await start({ readMaxBytes: 16 * 1024, bufferMaxBytes: 35_000, bufferMaxBytesPerConnection: 25_000 });
    const holding = [http2.connect(url), http2.connect(url)];
    try {
      // 10,000 + 10,000 bytes on the first connection, 10,000 on the second: the process budget is nearly full.
      for (const session of [holding[0]!, holding[0]!, holding[1]!]) {
        openRawGrpcStream(session, AUTHORIZE_PATH).stream.write(grpcFrame(Buffer.alloc(12_000)).subarray(0, 10_000));
        await new Promise((resolve) => session.ping(resolve));
      }
      const body = grpcFrame(request("GET /late".padEnd(10_000, ".")));
      const busy = await rawGrpcCall(url, AUTHORIZE_PATH, body);
      expect([busy.status, busy.message]).toEqual([8, "server busy: more than 35000 bytes of requests in flight"]);

      holding[0]!.destroy();
      await eventually(async () => (await rawGrpcCall(url, AUTHORIZE_PATH, body)).status === 0, 5000);
    } finally {
      for (const session of holding) session.destroy();
    }
  });

  it("counts a large body sent in 16 KiB frames about at its size, not at four whole reads a frame", async () => {
    const url = await start({ readMaxBytes: 1024 * 1024, bufferMaxBytes: 64 * 1024 * 1024, bufferMaxBytesPerConnection: 1536 * 1024 });
    const resource = "GET /large".padEnd(1024 * 1024 - 16, ".");
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request(resource)));
    expect([reply.status, reply.message]).toEqual([0, ""]);
  });

  it("copies a few bytes out of a large socket read, so many streams holding one byte each do not fill the budget", async () => {
    // 100 streams of one byte each, written with one large frame: together one socket read of about 19 KB.
    const url = await start({ readMaxBytes: 64 * 1024, bufferMaxBytes: 100_000, bufferMaxBytesPerConnection: 100_000 });
    const session = http2.connect(url);
    try {
      await new Promise((resolve) => session.once("remoteSettings", resolve));
      const calls = [openRawGrpcStream(session, AUTHORIZE_PATH)];
      calls[0]!.stream.write(grpcFrame(Buffer.alloc(20_000)).subarray(0, 16_000));
      for (let index = 0; index < 100; index++) {
        const call = openRawGrpcStream(session, AUTHORIZE_PATH);
        call.stream.write(Buffer.alloc(1));
        calls.push(call);
      }
      await new Promise((resolve) => session.ping(resolve));
      // Charged at the read once plus 100 copies of one byte, not 100 times the read: a whole request still fits.
      const reply = await rawGrpcCall(url, AUTHORIZE_PATH, grpcFrame(request("GET /fits".padEnd(10_000, "."))));
      expect(reply.status).toBe(0);
      const answered = await Promise.race([
        Promise.any(calls.map((call) => call.reply)),
        new Promise((resolve) => setTimeout(resolve, 50, "none")),
      ]);
      expect(answered).toBe("none");
    } finally {
      session.destroy();
    }
  });
});
