import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { bearer, createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient } from "../support/envoy-client.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";
import { startReplicas, type Replicas } from "../support/replicas.js";
import { LOAD_SCOPE, startMixedLoad, wrongfulAllows, type Target } from "./mixed-load.js";
import { leakedSecrets } from "./replica-probes.js";
import { percentile, recordRow } from "./rows.js";
import { createTokenLedger } from "./token-ledger.js";

const SOAK_MS = 10 * 60_000;
const SAMPLE_EVERY_MS = 5000;
/** docs/caching.md: one heartbeat plus the default Redis command timeout. */
const PROPAGATION_MS = 1000 + 2000;

interface Reading {
  at: number;
  rssMb: number;
  loopDelayP99Ms: number;
}

async function reading(pid: number, url: string): Promise<Reading> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const samples = parseSamples(await (await fetch(`${url}/metrics`)).text());
  return {
    at: Date.now(),
    rssMb: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024,
    loopDelayP99Ms: (sampleValue(samples, "nodejs_eventloop_lag_p99_seconds", {}) ?? 0) * 1000,
  };
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

// Collected only with `npm run test:reliability -- --long` (vitest.reliability.config.ts):
// ten minutes is no part of CI's standard run.
describe("a soak of mixed load on two replicas of one Redis", () => {
  let replicas: Replicas;
  let targets: Target[];
  const writeConfig = configFileWriter();

  beforeAll(async () => {
    const config = writeConfig(stringify({ policy: TEST_POLICY, envoy: { realm: "example" } }));
    replicas = await startReplicas(2, { PORTCULLIS_CONFIG: config, PORTCULLIS_LOG_LEVEL: "info" });
    targets = replicas.servers.map((server) => ({ clients: createClients(server.url), envoy: createEnvoyClient(server.url) }));
  });
  afterAll(async () => {
    for (const target of targets ?? []) target.envoy.close();
    await replicas?.stop();
  });

  it("keeps memory and event-loop delay flat for ten minutes, with no wrongful ALLOW", async () => {
    const ledger = createTokenLedger();
    for (let index = 0; index < 50; index++) {
      const minted = await targets[index % 2]!.clients.admin.mintToken({ scopes: [LOAD_SCOPE], name: "soak" }, bearer(replicas.rootToken));
      ledger.minted(minted.token, minted.record!.tokenId);
    }
    const load = startMixedLoad(targets, ledger, { rootToken: replicas.rootToken, concurrency: 8, deadlineMs: 10_000, mintShare: 0.05, revokeShare: 0.05 });
    const readings: Reading[][] = [[], []];
    const started = Date.now();
    while (Date.now() - started < SOAK_MS) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
      for (const [index, server] of replicas.servers.entries()) readings[index]!.push(await reading(server.child.pid!, server.url));
    }
    await load.stop();

    const minute = 60_000;
    const growth = readings.map((series) => {
      const first = series.filter((sample) => sample.at - started < 2 * minute).map((sample) => sample.rssMb);
      const last = series.filter((sample) => sample.at - started > SOAK_MS - 2 * minute).map((sample) => sample.rssMb);
      return mean(last) - mean(first);
    });
    const loopP99 = Math.max(...readings.flat().map((sample) => sample.loopDelayP99Ms));
    const samples = load.samples;
    recordRow({
      test: `Soak: ${SOAK_MS / 60_000} min of mixed load on Redis (RSS growth ${growth.map((mb) => `${mb.toFixed(1)} MB`).join(" / ")}, event-loop delay p99 ≤ ${loopP99.toFixed(1)} ms)`,
      operations: samples.length,
      faults: 0,
      badInputs: 0,
      wrongfulAllows: wrongfulAllows(samples, ledger, PROPAGATION_MS).length,
      tokensLost: 0,
      secretsLeaked: replicas.servers.reduce((sum, server) => sum + leakedSecrets(server.output(), [...ledger.secrets(), replicas.rootToken]), 0),
      recoverySeconds: null,
      p99DuringFaultMs: percentile(
        samples.map((sample) => sample.ms),
        99,
      ),
    });
    expect(samples.filter((sample) => sample.outcome === "error" || sample.outcome === "unavailable")).toEqual([]);
    // Flat, not zero: caches fill in the first minutes; a leak grows past this over ten.
    for (const mb of growth) expect(mb).toBeLessThan(64);
  }, SOAK_MS + 120_000);
});
