import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { AuthorizeRequestSchema, AuthorizeResponseSchema, Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { grpcFrame, rawGrpcCallOn } from "../support/raw-grpc.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const AUTHORIZE_PATH = "/portcullis.v1.AuthorizationService/Authorize";
const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";
const HEALTH_PATH = "/grpc.health.v1.Health/Check";
const DEADLINE_EXCEEDED = 4;
/** Long enough that a decision waiting on Redis surely outlasts the calls' 200 ms deadline. */
const REDIS_PAUSE_MS = 1500;

const authorizeFrame = (authorization: string, resource: string) =>
  grpcFrame(toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization, resource })));
const checkFrame = (authorization: string, path: string) =>
  grpcFrame(
    toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, { attributes: { request: { http: { method: "GET", path, headers: { authorization } } } } }),
    ),
  );

/** A Connect unary call (binary) on the same session: status, content type and the unframed message. */
function connectOn(session: http2.ClientHttp2Session, path: string, body: Uint8Array): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/proto", "connect-protocol-version": "1" });
    let status = 0;
    let contentType = "";
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      contentType = String(headers["content-type"]);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => resolve({ status, contentType, body: Buffer.concat(chunks) }));
    stream.end(body);
  });
}

describe("the lean gRPC path in a running server on Redis", () => {
  const writeConfig = configFileWriter();
  let redis: OwnRedis;
  let server: InProcessPortcullis;
  let reader: string;
  let mintReader: () => Promise<string>;
  beforeAll(async () => {
    redis = await startOwnRedis();
    const root = `pcl_root_${"r".repeat(40)}`;
    server = await startInProcess({
      PORTCULLIS_CONFIG: writeConfig(stringify({ policy: TEST_POLICY })),
      REDIS_URL: redis.url,
      PORTCULLIS_ROOT_TOKENS: root,
      PORTCULLIS_REDIS_TIMEOUT_MS: "10000",
    });
    mintReader = async () => (await createClients(server.url).admin.mintToken({ name: "reader", scopes: ["kafka:read"] }, bearer(root))).token;
    reader = await mintReader();
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.dispose();
  });

  it("serves a lean call, a Connect call and a health check one after another on one HTTP/2 connection, each answered once", async () => {
    const session = http2.connect(server.url);
    try {
      const lean = await rawGrpcCallOn(session, AUTHORIZE_PATH, authorizeFrame(`Bearer ${reader}`, "GET /api/kafka/topics"));
      expect([lean.trailersOnly, lean.status]).toEqual([false, 0]);
      expect(fromBinary(AuthorizeResponseSchema, lean.body.subarray(5)).decision).toBe(Decision.ALLOW);

      const request = toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization: `Bearer ${reader}`, resource: "POST /api/kafka/topics" }));
      const connect = await connectOn(session, AUTHORIZE_PATH, request);
      expect([connect.status, connect.contentType]).toEqual([200, "application/proto"]);
      expect(fromBinary(AuthorizeResponseSchema, connect.body).reason).toBe("insufficient_scope");

      const health = await rawGrpcCallOn(session, HEALTH_PATH, grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema))));
      expect(health.status).toBe(0);
      expect(fromBinary(HealthCheckResponseSchema, health.body.subarray(5)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);

      const check = await rawGrpcCallOn(session, CHECK_PATH, checkFrame(`Bearer ${reader}`, "/api/kafka/topics"));
      expect([check.status, fromBinary(CheckResponseSchema, check.body.subarray(5)).status?.code]).toEqual([0, 0]);
      expect(session.closed || session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });

  it("serves lean, Connect and health calls in flight at once on one connection", async () => {
    const session = http2.connect(server.url);
    try {
      const request = toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization: `Bearer ${reader}`, resource: "GET /api/kafka/x" }));
      const [lean, connect, health] = await Promise.all([
        rawGrpcCallOn(session, AUTHORIZE_PATH, authorizeFrame(`Bearer ${reader}`, "GET /api/kafka/x")),
        connectOn(session, AUTHORIZE_PATH, request),
        rawGrpcCallOn(session, HEALTH_PATH, grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema)))),
      ]);
      expect(fromBinary(AuthorizeResponseSchema, lean.body.subarray(5)).decision).toBe(Decision.ALLOW);
      expect(fromBinary(AuthorizeResponseSchema, connect.body).decision).toBe(Decision.ALLOW);
      expect(fromBinary(HealthCheckResponseSchema, health.body.subarray(5)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      session.close();
    }
  });

  it("answers Authorize and Check DEADLINE_EXCEEDED when Redis holds the decision past grpc-timeout, and the decision stops waiting, never the ALLOW that comes later", async () => {
    // A token never decided on before: one the cache holds would be allowed without asking Redis.
    const fresh = await mintReader();
    const control = new Redis(redis.url);
    const session = http2.connect(server.url);
    try {
      await control.call("CLIENT", "PAUSE", String(REDIS_PAUSE_MS), "ALL");
      const [authorize, check] = await Promise.all([
        rawGrpcCallOn(session, AUTHORIZE_PATH, authorizeFrame(`Bearer ${fresh}`, "GET /api/kafka/slow"), { "grpc-timeout": "200m" }),
        rawGrpcCallOn(session, CHECK_PATH, checkFrame(`Bearer ${fresh}`, "/api/kafka/slow"), { "grpc-timeout": "200m" }),
      ]);
      for (const reply of [authorize, check]) {
        expect([reply.trailersOnly, reply.status, reply.body.length]).toEqual([true, DEADLINE_EXCEEDED, 0]);
      }
      // The decisions were told too: each stopped waiting for Redis at its deadline, counted as such.
      const ended = server
        .output()
        .split("\n")
        .filter((line) => line.includes('"outcome":"deadline_exceeded"'))
        .map((line) => (JSON.parse(line) as { transport: string }).transport);
      expect(ended.sort()).toEqual(["authorize", "envoy_check"]);
      // Once Redis answers, the same question within a deadline is decided (and allowed) as usual.
      const later = await rawGrpcCallOn(session, AUTHORIZE_PATH, authorizeFrame(`Bearer ${fresh}`, "GET /api/kafka/slow"), { "grpc-timeout": "10S" });
      expect([later.status, fromBinary(AuthorizeResponseSchema, later.body.subarray(5)).decision]).toEqual([0, Decision.ALLOW]);
    } finally {
      session.close();
      control.disconnect();
    }
  });
});
