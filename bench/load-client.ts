/**
 * A node:http2 load generator that speaks h2load's options and output, for
 * two uses: machines without h2load (Debian's nghttp2-client), and
 * scenarios that need a different body per request, which h2load cannot
 * send. `-d` may be given several times: requests cycle through the
 * bodies. `--fresh-token P` overwrites every occurrence of the string P in
 * a body with as many random base64url characters, per request, so every
 * request carries a token never seen before. A gRPC reply counts as
 * succeeded only with grpc-status 0.
 *
 *   tsx bench/load-client.ts -c 4 -m 64 (-D 5 | -n 100000) [--rps 250 --log-file f]
 *     -d body.bin [-d other.bin] [--fresh-token P] -H 'content-type: application/grpc' URL
 */
import { randomFillSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    c: { type: "string", default: "4" },
    m: { type: "string", default: "64" },
    D: { type: "string" },
    n: { type: "string" },
    rps: { type: "string" },
    "log-file": { type: "string" },
    d: { type: "string", multiple: true, default: [] },
    "fresh-token": { type: "string" },
    H: { type: "string", multiple: true, default: [] },
  },
});

const url = new URL(positionals[0]!);
const headers: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": url.pathname };
for (const header of values.H!) {
  const colon = header.indexOf(":");
  headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
}
const grpc = String(headers["content-type"]).startsWith("application/grpc");
const bodies = values.d!.map((path) => readFileSync(path));
const streamsPerClient = Number(values.m);
const perClientRate = values.rps === undefined ? undefined : Number(values.rps);
const totalRequests = values.n === undefined ? Infinity : Number(values.n);
const deadline = values.D === undefined ? Infinity : Date.now() + Number(values.D) * 1000;
const logRows: string[] | undefined = values["log-file"] === undefined ? undefined : [];

const nextBody = freshBodies(bodies, values["fresh-token"]);
let started = 0;
let succeeded = 0;
let failed = 0;
let errored = 0;
const begun = performance.now();

/** Each body with every occurrence of `placeholder` refilled at random per request (none: the bodies as they are). */
function freshBodies(templates: Buffer[], placeholder: string | undefined): () => Buffer {
  const alphabet = Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  const holes = templates.map((template) => {
    if (placeholder === undefined) return [];
    const found: number[] = [];
    for (let at = template.indexOf(placeholder); at !== -1; at = template.indexOf(placeholder, at + placeholder.length)) found.push(at);
    return found;
  });
  const pool = Buffer.alloc(65536);
  let poolAt = pool.length;
  let turn = 0;
  return () => {
    const index = turn++ % templates.length;
    if (holes[index]!.length === 0) return templates[index]!;
    const body = Buffer.from(templates[index]!);
    for (const at of holes[index]!) {
      for (let i = 0; i < placeholder!.length; i++) {
        if (poolAt === pool.length) {
          randomFillSync(pool);
          poolAt = 0;
        }
        body[at + i] = alphabet[pool[poolAt++]! & 63]!;
      }
    }
    return body;
  };
}

function mayStart(): boolean {
  return started < totalRequests && Date.now() < deadline;
}

function fire(client: Client): void {
  started++;
  client.inFlight++;
  const sentAt = performance.now();
  const stream = client.session.request(headers);
  let status = 0;
  let ok = false;
  stream.on("response", (received, flags) => {
    status = Number(received[":status"]);
    const endsHere = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    ok = status === 200 && (!grpc || (endsHere && received["grpc-status"] === "0"));
  });
  stream.on("trailers", (trailers) => (ok = status === 200 && trailers["grpc-status"] === "0"));
  stream.on("data", () => undefined);
  stream.on("error", () => errored++);
  stream.on("close", () => {
    const now = performance.now();
    client.inFlight--;
    if (ok) succeeded++;
    else failed++;
    logRows?.push(`${Math.round((performance.timeOrigin + sentAt) * 1000)}\t${status}\t${Math.round((now - sentAt) * 1000)}`);
    if (perClientRate === undefined && mayStart()) fire(client);
    else if (!mayStart() && clients.every((each) => each.inFlight === 0)) finish();
  });
  stream.end(nextBody());
}

interface Client {
  session: http2.ClientHttp2Session;
  inFlight: number;
  sent: number;
}

const clients: Client[] = Array.from({ length: Number(values.c) }, () => {
  const session = http2.connect(url.origin);
  session.on("error", () => errored++);
  return { session, inFlight: 0, sent: 0 };
});

if (perClientRate === undefined) {
  for (const client of clients) for (let i = 0; i < streamsPerClient && mayStart(); i++) fire(client);
} else {
  // Open loop at a fixed rate: each tick sends what the schedule says is due, up to -m in flight per client.
  const pace = setInterval(() => {
    if (!mayStart()) {
      clearInterval(pace);
      if (clients.every((each) => each.inFlight === 0)) finish();
      return;
    }
    const due = Math.floor(((performance.now() - begun) / 1000) * perClientRate);
    for (const client of clients) {
      while (client.sent < due && client.inFlight < streamsPerClient && mayStart()) {
        client.sent++;
        fire(client);
      }
      // A client that could not keep up skips what it missed, as h2load does.
      client.sent = Math.max(client.sent, due);
    }
  }, 1);
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  const seconds = (performance.now() - begun) / 1000;
  const done = succeeded + failed;
  if (logRows !== undefined) writeFileSync(values["log-file"]!, logRows.join("\n") + "\n");
  console.log(`finished in ${seconds.toFixed(2)}s, ${(done / seconds).toFixed(2)} req/s`);
  console.log(`requests: ${started} total, ${started} started, ${done} done, ${succeeded} succeeded, ${failed} failed, ${errored} errored, 0 timeout`);
  for (const client of clients) client.session.close();
}
