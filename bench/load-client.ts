/**
 * A small h2load stand-in for machines without nghttp2-client: `-c`
 * connections with `-m` streams in flight each, for `-D` seconds, posting
 * the file given by `-d` with the `-H` headers. Prints its summary in
 * h2load's words so bench/run.ts reads both the same way. A gRPC reply
 * counts as succeeded only with grpc-status 0.
 */
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    c: { type: "string", default: "4" },
    m: { type: "string", default: "64" },
    D: { type: "string", default: "5" },
    d: { type: "string" },
    H: { type: "string", multiple: true, default: [] },
  },
});

const url = new URL(positionals[0]!);
const body = readFileSync(values.d!);
const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": url.pathname };
for (const header of values.H!) {
  const colon = header.indexOf(":");
  headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
}
const grpc = String(headers["content-type"]).startsWith("application/grpc");

let succeeded = 0;
let failed = 0;
let errored = 0;
let running = true;
const started = process.hrtime.bigint();
const deadline = Date.now() + Number(values.D) * 1000;

function fire(session: http2.ClientHttp2Session): void {
  if (!running) return;
  const stream = session.request(headers);
  let ok = false;
  stream.on("response", (received, flags) => {
    const endsHere = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    ok = received[":status"] === 200 && (!grpc || (endsHere && received["grpc-status"] === "0"));
  });
  stream.on("trailers", (trailers) => (ok = trailers["grpc-status"] === "0"));
  stream.on("data", () => undefined);
  stream.on("error", () => errored++);
  stream.on("close", () => {
    if (ok) succeeded++;
    else failed++;
    if (Date.now() < deadline) fire(session);
    else running = false;
  });
  stream.end(body);
}

const sessions = Array.from({ length: Number(values.c) }, () => {
  const session = http2.connect(url.origin);
  session.on("error", () => errored++);
  for (let i = 0; i < Number(values.m); i++) fire(session);
  return session;
});

const timer = setInterval(() => {
  if (running && Date.now() < deadline) return;
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const done = succeeded + failed;
  console.log(`finished in ${seconds.toFixed(2)}s, ${(done / seconds).toFixed(2)} req/s`);
  console.log(`requests: ${done} total, ${done} started, ${done} done, ${succeeded} succeeded, ${failed} failed, ${errored} errored, 0 timeout`);
  for (const session of sessions) session.close();
}, 50);
