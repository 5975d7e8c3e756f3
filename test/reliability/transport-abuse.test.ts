import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AuthorizeRequestSchema, AuthorizeResponseSchema, Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { grpcFrame, rawGrpcCall, type RawGrpcReply } from "../support/raw-grpc.js";
import { authorizeVerdict } from "./bad-input-harness.js";
import { isServing, leakedSecrets, probe } from "./replica-probes.js";
import { percentile, recordRow, variant } from "./rows.js";

const AUTHORIZE = "/portcullis.v1.AuthorizationService/Authorize";
const CHECK = "/envoy.service.auth.v3.Authorization/Check";
const RAPID_RESETS = variant() === "long" ? 20_000 : 2000;
const FLOOD_STREAMS = variant() === "long" ? 5000 : 600;

/** An ALLOW hidden in a reply: grpc-status 0 and a body that decodes to one. */
function allowedIn(path: string, reply: RawGrpcReply): boolean {
  if (reply.status !== 0 || reply.body.length < 5) return false;
  const message = reply.body.subarray(5, 5 + reply.body.readUInt32BE(1));
  if (path === AUTHORIZE) return fromBinary(AuthorizeResponseSchema, message).decision === Decision.ALLOW;
  return fromBinary(CheckResponseSchema, message).status?.code === 0;
}

/** Writes `request` on a fresh TCP connection and reads until the server closes it or 3 s pass. */
function rawHttp1(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, 3000);
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("close", done);
    socket.on("error", done);
    socket.write(request, "latin1");
  });
}

describe("transport abuse on the shared port", () => {
  const writeConfig = configFileWriter();
  let server: PortcullisProcess;
  let clients: Clients;
  let reader: string;
  let port: number;

  beforeAll(async () => {
    const root = `pcl_root_${randomBytes(24).toString("hex")}`;
    const config = writeConfig(stringify({ policy: TEST_POLICY, envoy: { realm: "example" } }));
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_ROOT_TOKENS: root, PORTCULLIS_LOG_LEVEL: "info" } });
    clients = createClients(server.url);
    port = Number(new URL(server.url).port);
    reader = (await clients.admin.mintToken({ scopes: ["kafka:read"], name: "reader" }, bearer(root))).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const validDecision = () => authorizeVerdict(clients, { authorization: `Bearer ${reader}`, resource: "GET /api/kafka/topics" });

  it("refuses malformed gRPC frames and compression on Authorize and Check with a gRPC status, never an ALLOW", async () => {
    const authorizeMessage = toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization: `Bearer ${reader}`, resource: "GET /api/kafka/topics" }));
    // Both messages, framed correctly, would be allowed: any mangling that still reached the engine whole would show.
    const checkMessage = toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: { request: { http: { method: "GET", path: "/api/kafka/topics", host: "api.example.com", headers: { authorization: `Bearer ${reader}` } } } },
      }),
    );
    const bodies: [string, (message: Uint8Array) => Uint8Array, Record<string, string>][] = [
      ["an empty body", () => new Uint8Array(), {}],
      ["three bytes of a prefix", () => Buffer.from([0, 0, 0]), {}],
      ["a prefix promising more than follows", (message) => Buffer.concat([grpcFrame(message).subarray(0, 5 + Math.floor(message.length / 2))]), {}],
      ["a prefix promising 4 GiB", (message) => Buffer.concat([Buffer.from([0, 0xff, 0xff, 0xff, 0xff]), message]), {}],
      ["the compressed flag without grpc-encoding", (message) => grpcFrame(message, 1), {}],
      ["gzip declared, garbage sent", () => grpcFrame(randomBytes(64), 1), { "grpc-encoding": "gzip" }],
      ["an encoding the server does not speak", (message) => grpcFrame(message, 1), { "grpc-encoding": "br" }],
      ["a gzip bomb (16 MiB of zeros)", () => grpcFrame(gzipSync(Buffer.alloc(16 * 1024 * 1024)), 1), { "grpc-encoding": "gzip" }],
      ["two messages in a unary call", (message) => Buffer.concat([grpcFrame(message), grpcFrame(message)]), {}],
      ["a flag byte of 0x80", (message) => grpcFrame(message, 0x80), {}],
      ["random bytes in a well-formed frame", () => grpcFrame(randomBytes(200)), {}],
      // Over Authorize's 64 KiB limit; Check takes up to 1 MiB (Envoy forwards every header), so 2 MiB is over both.
      ["a message of 128 KiB", () => grpcFrame(randomBytes(128 * 1024)), {}],
      ["a message of 2 MiB", () => grpcFrame(randomBytes(2 * 1024 * 1024)), {}],
      ["a content-type that is not gRPC", (message) => grpcFrame(message), { "content-type": "application/octet-stream" }],
    ];
    let wrongful = 0;
    const statuses: string[] = [];
    for (const path of [AUTHORIZE, CHECK]) {
      for (const [name, body, headers] of bodies) {
        const reply = await rawGrpcCall(server.url, path, body(path === AUTHORIZE ? authorizeMessage : checkMessage), headers).catch(
          (error: Error) => ({ status: Number.NaN, rstCode: -1, message: error.message }) as unknown as RawGrpcReply,
        );
        if (allowedIn(path, reply)) wrongful++;
        const answer = Number.isNaN(reply.status) ? `HTTP ${String(reply.headers?.[":status"] ?? "none")}, reset ${reply.rstCode}` : `grpc-status ${reply.status}`;
        statuses.push(`${path.split("/")[2]} ${name}: ${answer}`);
      }
    }
    recordRow({
      test: "Bad inputs: malformed gRPC frames and compression (Authorize and Check)",
      operations: bodies.length * 2 + 1,
      faults: 0,
      badInputs: bodies.length * 2,
      wrongfulAllows: wrongful,
      tokensLost: 0,
      secretsLeaked: leakedSecrets(server.output(), [reader]),
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    // Every one ends in a gRPC error status or a reset stream; none answers OK with a decision.
    expect(statuses.filter((line) => / grpc-status 0$|HTTP 2\d\d/.test(line))).toEqual([]);
    // The control: the same messages, framed correctly, are allowed.
    expect(allowedIn(AUTHORIZE, await rawGrpcCall(server.url, AUTHORIZE, grpcFrame(authorizeMessage)))).toBe(true);
    expect(allowedIn(CHECK, await rawGrpcCall(server.url, CHECK, grpcFrame(checkMessage)))).toBe(true);
    expect(statuses.filter((line) => line.includes("2 MiB"))).toEqual([`Authorize a message of 2 MiB: grpc-status 8`, `Check a message of 2 MiB: grpc-status 8`]);
    expect(await validDecision()).toBe("allow:ok");
  });

  it("answers HTTP/1.1 smuggling shapes with one error and no second request, and keeps serving", async () => {
    const target = "POST /portcullis.v1.AuthorizationService/Authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    const smuggled = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    const shapes: [string, string][] = [
      ["Content-Length and Transfer-Encoding together", `${target}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      ["two different Content-Lengths", `${target}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}${smuggled}`],
      ["an obfuscated Transfer-Encoding", `${target}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`],
      ["Transfer-Encoding with a space before the colon", `${target}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      ["a chunk size with junk", `${target}Transfer-Encoding: chunked\r\n\r\n2;\u0000x\r\n{}\r\n0\r\n\r\n${smuggled}`],
      ["bare LF line ends", `POST /portcullis.v1.AuthorizationService/Authorize HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}${smuggled}`],
      ["headers of 64 KiB", `${target}X-Filler: ${"a".repeat(64 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`],
      ["an HTTP/2 preface cut short", "PRI * HTTP/2.0\r\n\r\nSM\r\n"],
      ["a request line of garbage", "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n"],
    ];
    const answers: string[] = [];
    for (const [name, request] of shapes) {
      const response = await rawHttp1(port, request);
      const responses = response.match(/HTTP\/1\.1 \d{3}/g) ?? [];
      answers.push(`${name}: ${responses.join(", ") || "closed"}`);
    }
    recordRow({
      test: "Bad inputs: HTTP/1.1 smuggling shapes on the shared port",
      operations: shapes.length + 1,
      faults: 0,
      badInputs: shapes.length,
      wrongfulAllows: 0,
      tokensLost: 0,
      secretsLeaked: leakedSecrets(server.output(), [reader]),
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    // At most one answer per connection, and never a success: the smuggled request behind it is never read.
    expect(answers.filter((line) => /HTTP\/1\.1 \d{3}, HTTP|HTTP\/1\.1 2\d\d/.test(line))).toEqual([]);
    expect(await validDecision()).toBe("allow:ok");
    expect(isServing(await probe(server.url))).toBe(true);
  });

  it("survives HTTP/2 rapid reset and stream floods, answering valid calls on another connection throughout", async () => {
    const latencies: number[] = [];
    let flooding = true;
    const valid = (async () => {
      const verdicts: string[] = [];
      while (flooding) {
        const started = Date.now();
        verdicts.push(await validDecision());
        latencies.push(Date.now() - started);
      }
      return verdicts;
    })();

    // Rapid reset (CVE-2023-44487): open a stream and cancel it at once, over and over, on one connection.
    const resetSession = http2.connect(server.url);
    resetSession.on("error", () => undefined);
    for (let index = 0; index < RAPID_RESETS && !resetSession.destroyed; index++) {
      const stream = resetSession.request({ ":method": "POST", ":path": AUTHORIZE, "content-type": "application/grpc" });
      stream.on("error", () => undefined);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      if (index % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // A flood of streams opened and never finished, beyond the advertised limit, over several connections.
    const floodSessions = Array.from({ length: 4 }, () => {
      const session = http2.connect(server.url, { peerMaxConcurrentStreams: 100_000 });
      session.on("error", () => undefined);
      return session;
    });
    let refused = 0;
    for (let index = 0; index < FLOOD_STREAMS; index++) {
      const session = floodSessions[index % floodSessions.length]!;
      if (session.destroyed) continue;
      const stream = session.request({ ":method": "POST", ":path": AUTHORIZE, "content-type": "application/grpc", te: "trailers" }, { endStream: false });
      stream.on("error", () => undefined);
      stream.on("close", () => {
        if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) refused++;
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    flooding = false;
    const verdicts = await valid;
    resetSession.destroy();
    for (const session of floodSessions) session.destroy();

    recordRow({
      test: `HTTP/2 rapid reset (${RAPID_RESETS} streams) and a flood of ${FLOOD_STREAMS} unfinished streams`,
      operations: RAPID_RESETS + FLOOD_STREAMS + verdicts.length,
      faults: 2,
      badInputs: RAPID_RESETS + FLOOD_STREAMS,
      wrongfulAllows: 0,
      tokensLost: 0,
      secretsLeaked: leakedSecrets(server.output(), [reader]),
      recoverySeconds: null,
      p99DuringFaultMs: percentile(latencies, 99),
    });
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.filter((verdict) => verdict !== "allow:ok")).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(isServing(await probe(server.url))).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
