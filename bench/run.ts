/**
 * Decision RPC throughput, measured in one run against a raw node:http2
 * no-op on the same machine (docs/transport-limits.md explains why
 * the raw no-op is the baseline). Load comes from h2load (Debian package
 * nghttp2-client) when installed, else from bench/load-client.ts; either way
 * a separate process with bounded concurrency. Prints req/s per round and
 * the ratio to the raw no-op. Nothing here is asserted: speed is reported.
 *
 *   npm run bench [-- --seconds 5 --rounds 2 --clients 4 --streams 64]
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { pino } from "pino";
import { toConnectError } from "../src/api/error-mapping.js";
import {
  DEFAULT_BUFFER_MAX_BYTES,
  DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION,
  grpcUnaryRoute,
  withGrpcUnary,
} from "../src/http/grpc-unary.js";
import { DEFAULT_LISTENER_LIMITS, listen, type Listener } from "../src/http/listener.js";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService, AuthorizeRequestSchema, AuthorizeResponseSchema } from "../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients } from "../test/support/clients.js";
import { startPortcullisProcess } from "../test/support/portcullis-process.js";
import { grpcFrame, rawGrpcCall } from "../test/support/raw-grpc.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    clients: { type: "string", default: "4" },
    streams: { type: "string", default: "64" },
  },
});

interface Target {
  name: string;
  url: string;
  path: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

const GRPC = { "content-type": "application/grpc", te: "trailers" };
const CONNECT = { "content-type": "application/proto", "connect-protocol-version": "1" };

async function main(): Promise<void> {
  const raw = await startRawNoOp();
  const leanNoOp = await startLeanNoOp();
  const root = `pcl_bench_${randomBytes(24).toString("hex")}`;
  const dir = await mkdtemp(join(tmpdir(), "portcullis-bench-"));
  const configPath = join(dir, "portcullis.yaml");
  await writeFile(
    configPath,
    stringify({ policy: { rules: [{ name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET"], scope: "kafka:read" }] } }),
  );
  const server = await startPortcullisProcess({
    env: { PORTCULLIS_CONFIG: configPath, PORTCULLIS_ROOT_TOKENS: root, PORTCULLIS_LOG_LEVEL: "info" },
  });
  try {
    const { admin } = createClients(server.url);
    const minted = await admin.mintToken({ name: "bench", scopes: ["kafka:read"] }, bearer(root));
    const authorization = `Bearer ${minted.token}`;
    const check = toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          request: { http: { method: "GET", path: "/api/kafka/topics", host: "api.example.com", headers: { authorization } } },
        },
      }),
    );
    const authorize = toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization, resource: "GET /api/kafka/topics" }));
    const targets: Target[] = [
      { name: "raw node:http2 no-op (hand-framed gRPC)", url: raw.url, path: "/bench.v1.Noop/Ping", body: grpcFrame(authorize), headers: GRPC },
      { name: "lean path no-op (grpc-unary.ts, listener.ts)", url: leanNoOp.url, path: "/portcullis.v1.AuthorizationService/Authorize", body: grpcFrame(authorize), headers: GRPC },
      { name: "Envoy Check, gRPC, lean path", url: server.url, path: "/envoy.service.auth.v3.Authorization/Check", body: grpcFrame(check), headers: GRPC },
      { name: "Authorize, gRPC, lean path", url: server.url, path: "/portcullis.v1.AuthorizationService/Authorize", body: grpcFrame(authorize), headers: GRPC },
      { name: "Authorize, Connect proto over h2, connect-node", url: server.url, path: "/portcullis.v1.AuthorizationService/Authorize", body: authorize, headers: CONNECT },
      { name: "Envoy Check, Connect proto over h2, connect-node", url: server.url, path: "/envoy.service.auth.v3.Authorization/Check", body: check, headers: CONNECT },
    ];
    await verifyAllowed(targets);

    const load = hasH2load() ? "h2load" : "bench/load-client.ts";
    const rounds = Number(args.rounds);
    console.log(`load: ${load}, ${args.clients} connections x ${args.streams} streams, ${args.seconds}s per measurement, ${rounds} rounds`);
    const results = new Map<string, number[]>(targets.map((target) => [target.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const target of targets) {
        const rate = await measure(target, dir);
        results.get(target.name)!.push(rate);
        console.log(`round ${round}: ${target.name}: ${Math.round(rate)} req/s`);
      }
    }
    report(results, targets[0]!.name);
  } finally {
    await server.stop();
    raw.server.close();
    await leanNoOp.listener.close(1000);
  }
}

/** The transport's ceiling: read the request, answer one empty message and grpc-status 0. */
async function startRawNoOp(): Promise<{ server: http2.Http2Server; url: string }> {
  const reply = grpcFrame(new Uint8Array());
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => undefined);
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The lean path's own cost: Portcullis's listener and grpc-unary.ts around a method that does nothing. */
async function startLeanNoOp(): Promise<{ listener: Listener; url: string }> {
  const reply = create(AuthorizeResponseSchema);
  const log = pino({ level: "silent" });
  const handler = withGrpcUnary(
    [grpcUnaryRoute(AuthorizationService.method.authorize, async () => reply)],
    {
      readMaxBytes: 64 * 1024,
      bufferMaxBytes: DEFAULT_BUFFER_MAX_BYTES,
      bufferMaxBytesPerConnection: DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION,
      toConnectError: (error) => toConnectError(error, log),
    },
    (_request, response) => response.writeHead(404).end(),
  );
  const listener = await listen("127.0.0.1", 0, handler, DEFAULT_LISTENER_LIMITS);
  return { listener, url: `http://127.0.0.1:${listener.address.port}` };
}

/** A benchmark of failures measures nothing: every target must answer one real request first. */
async function verifyAllowed(targets: Target[]): Promise<void> {
  for (const target of targets) {
    if (target.headers["content-type"] === "application/grpc") {
      const reply = await rawGrpcCall(target.url, target.path, target.body, target.headers);
      if (reply.status !== 0) throw new Error(`${target.name}: grpc-status ${reply.status} ${reply.message}`);
    } else {
      const response = await fetchH2(target);
      if (response !== 200) throw new Error(`${target.name}: HTTP ${response}`);
    }
  }
}

function fetchH2(target: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(target.url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": target.path, ...target.headers });
    stream.on("response", (headers) => resolve(Number(headers[":status"])));
    stream.on("close", () => session.close());
    stream.resume();
    stream.end(target.body);
  });
}

function hasH2load(): boolean {
  return spawnSync("h2load", ["--version"]).status === 0;
}

async function measure(target: Target, dir: string): Promise<number> {
  const bodyPath = join(dir, "body.bin");
  await writeFile(bodyPath, target.body);
  const headerArgs = Object.entries(target.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const common = ["-c", args.clients!, "-m", args.streams!];
  const [command, commandArgs] = hasH2load()
    ? ["h2load", [...common, "-D", args.seconds!, "--warm-up-time", "1", "-d", bodyPath, ...headerArgs, `${target.url}${target.path}`]]
    : [process.execPath, ["--import", "tsx", "bench/load-client.ts", ...common, "-D", args.seconds!, "-d", bodyPath, ...headerArgs, `${target.url}${target.path}`]];
  const output = await run(command, commandArgs as string[]);
  const rate = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(output);
  const failed = /requests: .* (\d+) failed, (\d+) errored/.exec(output);
  if (rate === null) throw new Error(`${target.name}: no rate in load output:\n${output}`);
  if (failed !== null && (failed[1] !== "0" || failed[2] !== "0")) throw new Error(`${target.name}: requests failed:\n${output}`);
  return Number(rate[1]);
}

function run(command: string, commandArgs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}:\n${output}`))));
  });
}

function report(results: Map<string, number[]>, baseline: string): void {
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const base = mean(results.get(baseline)!);
  console.log("\n| target | req/s per round | mean req/s | vs raw no-op |");
  console.log("|---|---|---|---|");
  for (const [name, rates] of results) {
    const rounds = rates.map((rate) => Math.round(rate).toLocaleString("en-US")).join(" · ");
    console.log(`| ${name} | ${rounds} | ${Math.round(mean(rates)).toLocaleString("en-US")} | ${(mean(rates) / base).toFixed(2)}× |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
