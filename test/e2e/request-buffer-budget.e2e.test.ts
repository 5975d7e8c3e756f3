import { create, toBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { grpcFrame, openRawGrpcStream, rawGrpcCall, type RawGrpcStream } from "../support/raw-grpc.js";

const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";
const CONNECTIONS = 10;
/** Streams per connection holding one byte each; one more carries the large frame (128 allowed by default). */
const SMALL_STREAMS = 126;
/** With the streams' frames, one socket read of just under 64 KiB per connection. */
const LARGE_FRAME_BYTES = 56 * 1024;

/** A Check for a request with 56 KiB of cookies (Envoy accepts up to 60 KiB of request headers by default). */
const checkFrame = () =>
  grpcFrame(
    toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          request: { http: { method: "GET", path: "/api/x", host: "api.example.com", headers: { cookie: "x".repeat(56 * 1024) } } },
        },
      }),
    ),
  );

/**
 * One attacking connection: many Check streams holding one byte each, written
 * in the same socket write as a large frame, so that every one-byte chunk the
 * server receives is a slice of one read of nearly 64 KiB. Resolves once the
 * server has read all of it (a PING is answered after the frames before it).
 */
async function attack(url: string): Promise<{ session: http2.ClientHttp2Session; calls: RawGrpcStream[] }> {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  await new Promise((resolve) => session.once("remoteSettings", resolve));
  const large = openRawGrpcStream(session, CHECK_PATH);
  large.stream.write(grpcFrame(Buffer.alloc(LARGE_FRAME_BYTES)).subarray(0, LARGE_FRAME_BYTES));
  const calls = [large];
  for (let index = 0; index < SMALL_STREAMS; index++) {
    const call = openRawGrpcStream(session, CHECK_PATH);
    call.stream.write(Buffer.alloc(1));
    calls.push(call);
  }
  await new Promise((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve(undefined))));
  return { session, calls };
}

describe("the buffer budget under many streams that each hold a few bytes", () => {
  let server: PortcullisProcess;
  beforeAll(async () => {
    // Default limits, but a read deadline long enough that no attacking stream is cut while the test runs on a busy machine.
    server = await startPortcullisProcess({ env: { PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS: "60000" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("still answers a Check on a fresh connection while ten connections hold 1,270 unfinished streams in large socket reads", async () => {
    const attackers = await Promise.all(Array.from({ length: CONNECTIONS }, () => attack(server.url)));
    try {
      const fresh = http2.connect(server.url);
      await new Promise((resolve) => fresh.once("remoteSettings", resolve));
      const check = openRawGrpcStream(fresh, CHECK_PATH);
      check.stream.end(checkFrame());
      const reply = await check.reply;
      fresh.close();
      expect([reply.status, reply.message]).toEqual([0, ""]);
      // The attack was held open throughout: no attacking stream had been answered.
      const settled = await Promise.race([
        Promise.any(attackers.flatMap(({ calls }) => calls.map((call) => call.reply))).then(() => "some answered"),
        new Promise((resolve) => setTimeout(() => resolve("all open"), 50)),
      ]);
      expect(settled).toBe("all open");
    } finally {
      for (const { session } of attackers) session.destroy();
    }
  });
});
