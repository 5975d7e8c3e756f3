import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { BACKENDS } from "../support/backends.js";
import { bearer, createClients, decide } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";
import { leakedSecrets } from "./replica-probes.js";
import { recordRow, variant } from "./rows.js";

const MINTS = 300;
const KILLS = variant() === "long" ? 12 : 3;
const CONCURRENCY = 4;
/** The lowest lock staleness there is: a restart after a SIGKILL waits this long for the data dir's lock. */
const LOCK_STALE_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a server on `dataDir`, retrying while the lock a killed one left is not yet stale. */
async function startAfterCrash(dataDir: string, env: Record<string, string>): Promise<PortcullisProcess> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await startPortcullisProcess({ dataDir, env });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

describe("a server SIGKILLed at random moments while it mints", () => {
  for (const backend of BACKENDS) {
    it(`keeps every acknowledged mint on the ${backend} backend through SIGKILLs, the data file always parsing, and serves them all after a restart`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "portcullis-crash-"));
      const { prefix, cleanup } = testRedisPrefix();
      const root = randomBytes(32).toString("base64url");
      const env: Record<string, string> = {
        PORTCULLIS_ROOT_TOKENS: root,
        PORTCULLIS_DATA_DIR_LOCK_STALE_MS: String(LOCK_STALE_MS),
        PORTCULLIS_LOG_LEVEL: "info",
        ...(backend === "redis" ? { REDIS_URL: TEST_REDIS_URL, PORTCULLIS_REDIS_PREFIX: prefix } : {}),
      };
      const incarnations: PortcullisProcess[] = [];
      const acknowledged: { token: string; tokenId: string }[] = [];
      const unparsable: string[] = [];
      const missingOnDisk: string[] = [];
      const restartSeconds: number[] = [];
      let attempts = 0;
      let kills = 0;
      try {
        let server = await startAfterCrash(dataDir, env);
        incarnations.push(server);
        while (attempts < MINTS) {
          const clients = createClients(server.url);
          const running = server;
          // Killed after a random number of acknowledged mints, with the next ones in flight.
          const killAt = kills < KILLS ? acknowledged.length + 10 + Math.floor(Math.random() * 50) : Number.POSITIVE_INFINITY;
          const alive = () => running.child.exitCode === null && running.child.signalCode === null;
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              while (attempts < MINTS && alive()) {
                attempts++;
                try {
                  const minted = await clients.admin.mintToken({ scopes: ["orders:read"], name: `crash-${attempts}` }, { ...bearer(root), timeoutMs: 5000 });
                  acknowledged.push({ token: minted.token, tokenId: minted.record!.tokenId });
                  if (acknowledged.length >= killAt && alive()) {
                    kills++;
                    setTimeout(() => running.child.kill("SIGKILL"), Math.floor(Math.random() * 5));
                  }
                } catch {
                  // A mint cut off by the kill was never acknowledged; nothing is expected of it.
                }
              }
            }),
          );
          if (attempts >= MINTS) break;
          await new Promise((resolve) => (alive() ? running.child.once("exit", resolve) : resolve(undefined)));
          const killedAt = Date.now();
          if (backend === "embedded") {
            const text = await readFile(join(dataDir, EMBEDDED_DATA_FILE), "utf8");
            try {
              const tokens = (JSON.parse(text) as { tokens: Record<string, unknown> }).tokens;
              missingOnDisk.push(...acknowledged.filter(({ tokenId }) => !(tokenId in tokens)).map(({ tokenId }) => tokenId));
            } catch {
              unparsable.push(text.slice(0, 200));
            }
          }
          // Every start before the lock went stale would be refused; each costs a process start.
          if (backend === "embedded") await sleep(LOCK_STALE_MS);
          server = await startAfterCrash(dataDir, env);
          restartSeconds.push((Date.now() - killedAt) / 1000);
          incarnations.push(server);
        }

        const clients = createClients(server.url);
        let lost = missingOnDisk.length;
        for (const { token } of acknowledged) {
          if ((await decide(clients, token, "orders:read")).decision !== Decision.ALLOW) lost++;
        }
        const listed = new Set((await clients.admin.listTokens({}, bearer(root))).tokens.map((token) => token.tokenId));
        lost += acknowledged.filter(({ tokenId }) => !listed.has(tokenId)).length;
        await server.stop();
        const leaked = incarnations.reduce((sum, incarnation) => sum + leakedSecrets(incarnation.output(), [root, ...acknowledged.map(({ token }) => token)]), 0);

        recordRow({
          test: `SIGKILL during ${MINTS} mints: ${backend} store`,
          operations: attempts + acknowledged.length,
          faults: kills,
          badInputs: 0,
          wrongfulAllows: 0,
          tokensLost: lost,
          secretsLeaked: leaked,
          recoverySeconds: restartSeconds.length === 0 ? null : Math.max(...restartSeconds),
          p99DuringFaultMs: null,
        });
        console.info(`${backend}: ${acknowledged.length} of ${attempts} mints acknowledged, ${kills} kills, restarts took ${restartSeconds.map((seconds) => seconds.toFixed(1)).join(", ")} s`);
        expect(unparsable).toEqual([]);
        expect(kills).toBeGreaterThanOrEqual(1);
        expect(acknowledged.length).toBeGreaterThan(MINTS / 2);
      } finally {
        await Promise.all(incarnations.map((incarnation) => incarnation.stop()));
        await rm(dataDir, { recursive: true, force: true });
        await cleanup();
      }
    });
  }
});
