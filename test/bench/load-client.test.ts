import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLoadSummary } from "../../bench/h2load-output.js";
import { summarizeLatencyLog } from "../../bench/latency-log.js";
import { tracked } from "../support/spawned-processes.js";

const PLACEHOLDER = "FRESH_TOKEN_".padEnd(43, "X");

describe("the node load client", () => {
  const bodies: string[] = [];
  let server: http2.Http2Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "load-client-test-"));
    server = http2.createServer();
    server.on("stream", (stream) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        bodies.push(Buffer.concat(chunks).toString());
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench.v1.Noop/Ping`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  function runClient(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = tracked(spawn(process.execPath, ["--import", "tsx", "bench/load-client.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] }));
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.once("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`load client exited with ${code}:\n${output}`))));
    });
  }

  it("sends a fresh token per request, cycling through the bodies, and reports in h2load's words and log format", async () => {
    bodies.length = 0;
    const known = join(dir, "known.bin");
    const unknown = join(dir, "unknown.bin");
    await writeFile(known, "Bearer pcl_known");
    await writeFile(unknown, `Bearer pcl_${PLACEHOLDER}`);
    const log = join(dir, "latency.log");
    const output = await runClient(["-c", "2", "-m", "4", "-n", "40", "-d", known, "-d", unknown, "--fresh-token", PLACEHOLDER, "--log-file", log, "-H", "content-type: application/grpc", url]);

    expect(parseLoadSummary(output)).toMatchObject({ done: 40, succeeded: 40, failed: 0, errored: 0 });
    expect(summarizeLatencyLog(await readFile(log, "utf8")).count).toBe(40);
    const fresh = bodies.filter((body) => body !== "Bearer pcl_known");
    expect(bodies.length - fresh.length).toBe(20);
    expect(new Set(fresh).size).toBe(20);
    for (const body of fresh) expect(body).toMatch(/^Bearer pcl_[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toContain(`Bearer pcl_${PLACEHOLDER}`);
  });

  it("paces requests at --rps per connection", async () => {
    bodies.length = 0;
    const body = join(dir, "body.bin");
    await writeFile(body, "ping");
    const log = join(dir, "paced.log");
    await runClient(["-c", "2", "-m", "8", "-n", "60", "--rps", "100", "--log-file", log, "-d", body, "-H", "content-type: application/grpc", url]);
    // 60 requests at 200/s in total take about 0.3 s: not a burst of 60 at once.
    const starts = (await readFile(log, "utf8")).trim().split("\n").map((row) => Number(row.split("\t")[0]));
    expect((Math.max(...starts) - Math.min(...starts)) / 1000).toBeGreaterThan(150);
  });
});
