import { create, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeRequestSchema } from "../../gen/portcullis/v1/authorization_pb.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { grpcFrame, openRawGrpcStream, rawGrpcCall } from "../support/raw-grpc.js";

const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";
const AUTHORIZE_PATH = "/portcullis.v1.AuthorizationService/Authorize";
const MAX_STREAMS = 8;
const READ_TIMEOUT_MS = 400;

/** The first bytes of a request body that promises more than it sends. */
const unfinishedBody = () => grpcFrame(Buffer.alloc(4096)).subarray(0, 1024);

const authorizeFrame = (resource: string) => grpcFrame(toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { resource })));

/** Everything a raw HTTP/1.1 connection receives until the server closes it. */
function rawHttp1(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
}

describe("limits on what a client may hold open before its request is complete", () => {
  let server: PortcullisProcess;
  beforeAll(async () => {
    server = await startPortcullisProcess({
      env: {
        PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS: String(MAX_STREAMS),
        PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS: String(READ_TIMEOUT_MS),
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("advertises its stream limit and refuses streams beyond it with REFUSED_STREAM", async () => {
    // A client that opens streams before the server's SETTINGS arrive, as an attacker would, ignoring the limit.
    const session = http2.connect(server.url, { peerMaxConcurrentStreams: 1000 });
    try {
      const calls = Array.from({ length: 20 }, () => openRawGrpcStream(session, CHECK_PATH));
      for (const call of calls) call.stream.write(unfinishedBody());
      const replies = await Promise.all(calls.map((call) => call.reply));

      expect(session.remoteSettings.maxConcurrentStreams).toBe(MAX_STREAMS);
      const refused = replies.filter((reply) => reply.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM);
      expect(refused).toHaveLength(20 - MAX_STREAMS);
      // The streams it took were cut when their bodies did not finish in time.
      const cut = replies.filter((reply) => reply.rstCode !== http2.constants.NGHTTP2_REFUSED_STREAM);
      expect(cut.map((reply) => [reply.trailersOnly, reply.status])).toEqual(Array(MAX_STREAMS).fill([true, 4]));
    } finally {
      session.close();
    }
  });

  it("answers a gRPC call whose body does not finish in time DEADLINE_EXCEEDED, and goes on serving the connection", async () => {
    const session = http2.connect(server.url);
    try {
      const slow = openRawGrpcStream(session, AUTHORIZE_PATH);
      slow.stream.write(unfinishedBody());
      const reply = await slow.reply;
      expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, 4, `request not received within ${READ_TIMEOUT_MS} ms`]);

      const next = openRawGrpcStream(session, AUTHORIZE_PATH);
      next.stream.end(authorizeFrame("GET /x"));
      expect((await next.reply).status).toBe(0);
    } finally {
      session.close();
    }
  });

  it("resets a Connect call over HTTP/2 whose body does not finish in time", async () => {
    const session = http2.connect(server.url);
    try {
      const stream = session.request({ ":method": "POST", ":path": AUTHORIZE_PATH, "content-type": "application/proto" });
      stream.on("error", () => undefined);
      stream.write(Buffer.alloc(100));
      await new Promise((resolve) => stream.once("close", resolve));
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });

  it("answers an HTTP/1.1 request whose body does not finish in time with 408 and closes the connection", async () => {
    const port = Number(new URL(server.url).port);
    const received = await rawHttp1(
      port,
      `POST ${AUTHORIZE_PATH} HTTP/1.1\r\nhost: portcullis\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"resource":`,
    );
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("still answers whole requests at once", async () => {
    const reply = await rawGrpcCall(server.url, AUTHORIZE_PATH, authorizeFrame("GET /y"));
    expect(reply.status).toBe(0);
  });
});
