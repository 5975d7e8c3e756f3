import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { bearer, createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient } from "../support/envoy-client.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { eventually } from "../support/eventually.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/tls-certificates.js";
import { startReplicas, type Replicas } from "../support/replicas.js";
import { authorizeOutcome, checkOutcome, finalAnswers, LOAD_SCOPE, startMixedLoad, wrongfulAllows, type Target } from "./mixed-load.js";
import { isNotServing, isServing, leakedByReplicas, probe } from "./replica-probes.js";
import { recordFaultRow } from "./rows.js";
import { createTokenLedger, type TokenLedger } from "./token-ledger.js";

/** The Redis command timeout the replicas run with: what bounds an answer while Redis is away. */
const REDIS_TIMEOUT_MS = 500;
/** Every call's deadline; each must be answered by the server inside it. */
const DEADLINE_MS = 3000;
/** docs/caching.md: a silently dead subscription is noticed within one heartbeat (1 s) plus the command timeout. */
const PROPAGATION_MS = 1000 + REDIS_TIMEOUT_MS;
const FAULT_MS = 3000;
const RECOVERY_LIMIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function onRedis<T>(url: string, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    return await command(client);
  } finally {
    client.disconnect();
  }
}

/** The Redis the replicas run on, and what they need to reach it. */
interface RedisUnderTest {
  redis: OwnRedis;
  /** Environment that points a replica at it. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

interface Fault<R extends RedisUnderTest> {
  name: string;
  /** Injects the fault and resolves when it has ended. */
  inject(under: R, ledger: TokenLedger): Promise<void>;
  /** Readiness and health are expected to go down while it lasts. */
  probesFail: boolean;
}

const FAULTS: Fault<RedisUnderTest>[] = [
  {
    name: "Redis killed (SIGKILL) and started again",
    probesFail: true,
    async inject({ redis }) {
      await redis.kill();
      await sleep(FAULT_MS);
      await redis.start();
    },
  },
  {
    name: "Redis frozen by SIGSTOP",
    probesFail: true,
    async inject({ redis }) {
      redis.freeze();
      await sleep(FAULT_MS);
      redis.thaw();
    },
  },
  {
    name: "Redis paused by CLIENT PAUSE ALL",
    probesFail: true,
    async inject({ redis }) {
      await onRedis(redis.url, (client) => client.call("CLIENT", "PAUSE", String(FAULT_MS), "ALL"));
      await sleep(FAULT_MS);
    },
  },
  {
    name: "Redis emptied (FLUSHALL) and restarted",
    probesFail: false,
    async inject({ redis }, ledger) {
      await onRedis(redis.url, (client) => client.flushall());
      const flushedAt = Date.now();
      // A mint acknowledged shortly after the flush may have been written before it.
      await sleep(1000);
      ledger.wiped(flushedAt + 1000);
      await redis.stop();
      await redis.start();
    },
  },
  {
    name: "Redis slow (DEBUG SLEEP past the command timeout)",
    probesFail: true,
    async inject({ redis }) {
      await onRedis(redis.url, (client) => client.call("DEBUG", "SLEEP", String(FAULT_MS / 1000)));
    },
  },
];

/**
 * A Redis serving TLS only with a certificate Portcullis trusts
 * (`redis.tls_ca_file`), from files the faults overwrite before a restart:
 * redis-server reads its certificate when it starts.
 */
interface TlsRedis extends RedisUnderTest {
  /** Restarts Redis serving `certificate` (the trusted one when not given). */
  restartWith(certificate?: CertificateFiles): Promise<void>;
  /** A CA Portcullis does not trust, and Portcullis's own. */
  readonly rogue: TestPki;
  readonly pki: TestPki;
}

async function startTlsRedis(): Promise<TlsRedis> {
  const pki = createTestPki("Redis test CA");
  const rogue = createTestPki("A CA Portcullis does not trust");
  const trusted = pki.server("redis");
  const dir = mkdtempSync(join(tmpdir(), "portcullis-redis-tls-"));
  const served = { cert: join(dir, "served.crt"), key: join(dir, "served.key") };
  const serve = (certificate: CertificateFiles) => {
    copyFileSync(certificate.cert, served.cert);
    copyFileSync(certificate.key, served.key);
  };
  serve(trusted);
  const redis = await startOwnRedis({ tls: { ...served, ca: pki.ca.cert } });
  return {
    redis,
    pki,
    rogue,
    env: { REDIS_URL: redis.url, PORTCULLIS_REDIS_TLS_CA_FILE: pki.ca.cert },
    async restartWith(certificate = trusted) {
      await redis.stop();
      serve(certificate);
      await redis.start();
    },
    async dispose() {
      await redis.dispose();
      for (const files of [pki, rogue]) files.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TLS_FAULTS: Fault<TlsRedis>[] = [
  {
    name: "Redis over TLS restarted with a certificate from a CA Portcullis does not trust",
    probesFail: true,
    async inject(under) {
      await under.restartWith(under.rogue.server("redis"));
      await sleep(FAULT_MS);
      await under.restartWith();
    },
  },
  {
    name: "Redis over TLS restarted with an expired certificate",
    probesFail: true,
    async inject(under) {
      await under.restartWith(under.pki.expired("redis-expired", "server"));
      await sleep(FAULT_MS);
      await under.restartWith();
    },
  },
];

describeFaultsUnderLoad(
  "two replicas under mixed load while their Redis fails",
  async () => {
    const redis = await startOwnRedis({ args: ["--enable-debug-command", "local"] });
    return { redis, env: { REDIS_URL: redis.url }, dispose: () => redis.dispose() };
  },
  FAULTS,
);

describeFaultsUnderLoad("two replicas under mixed load while their Redis over TLS serves a certificate they must refuse", startTlsRedis, TLS_FAULTS);

function describeFaultsUnderLoad<R extends RedisUnderTest>(title: string, startRedis: () => Promise<R>, faults: readonly Fault<R>[]): void {
  describe(title, () => {
    let under: R;
    let replicas: Replicas;
    let targets: Target[];
    const writeConfig = configFileWriter();

    beforeAll(async () => {
      under = await startRedis();
      const config = writeConfig(stringify({ policy: TEST_POLICY, envoy: { realm: "example" } }));
      replicas = await startReplicas(2, {
        ...under.env,
        PORTCULLIS_CONFIG: config,
        PORTCULLIS_REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
        PORTCULLIS_LOG_LEVEL: "info",
      });
      targets = replicas.servers.map((server) => ({ clients: createClients(server.url), envoy: createEnvoyClient(server.url) }));
    });
    afterAll(async () => {
      for (const target of targets ?? []) target.envoy.close();
      await replicas?.stop();
      await under?.dispose();
    });

    async function mint(target: Target, ledger: TokenLedger): Promise<string> {
      const minted = await target.clients.admin.mintToken({ scopes: [LOAD_SCOPE], name: "fault" }, bearer(replicas.rootToken));
      ledger.minted(minted.token, minted.record!.tokenId);
      return minted.token;
    }

    /** Every replica ready and serving, and a token minted now allowed by each through both transports. */
    async function recovered(): Promise<boolean> {
      const readings = await Promise.all(replicas.servers.map((server) => probe(server.url)));
      if (!readings.every(isServing)) return false;
      try {
        const fresh = await targets[0]!.clients.admin.mintToken({ scopes: [LOAD_SCOPE], name: "probe" }, { ...bearer(replicas.rootToken), timeoutMs: DEADLINE_MS });
        for (const target of targets) {
          if ((await authorizeOutcome(target, fresh.token, DEADLINE_MS)).outcome !== "allow") return false;
          if ((await checkOutcome(target, fresh.token, DEADLINE_MS)).outcome !== "allow") return false;
        }
        return true;
      } catch {
        return false;
      }
    }

    for (const fault of faults) {
      it(`answers only DENY or UNAVAILABLE in time, keeps revoked tokens denied and recovers by itself: ${fault.name}`, async () => {
        const ledger = createTokenLedger();
        for (let index = 0; index < 10; index++) await mint(targets[index % 2]!, ledger);
        const revokedBefore: string[] = [];
        for (let index = 0; index < 5; index++) {
          const secret = await mint(targets[0]!, ledger);
          await targets[1]!.clients.admin.revokeToken({ tokenId: ledger.valid.get(secret)! }, bearer(replicas.rootToken));
          ledger.revokedAt(secret, Date.now());
          revokedBefore.push(secret);
        }
        // Past the propagation bound, every replica must deny them whatever happens next.
        await sleep(PROPAGATION_MS);

        const load = startMixedLoad(targets, ledger, { rootToken: replicas.rootToken, concurrency: 6, deadlineMs: DEADLINE_MS });
        await sleep(1000);
        const faultStart = Date.now();
        const faultDone = fault.inject(under, ledger);
        let probesWentDown = !fault.probesFail;
        if (fault.probesFail) {
          await eventually(async () => (await Promise.all(replicas.servers.map((server) => probe(server.url)))).every(isNotServing), FAULT_MS).then(
            () => (probesWentDown = true),
            () => undefined,
          );
        }
        await faultDone;
        const faultEnd = Date.now();
        await eventually(recovered, RECOVERY_LIMIT_MS);
        const recoverySeconds = (Date.now() - faultEnd) / 1000;
        await sleep(1000);
        await load.stop();

        const samples = load.samples;
        const duringFault = samples.filter((sample) => sample.startedAt >= faultStart && sample.startedAt < faultEnd);
        const decisionsDuringFault = duringFault.filter((sample) => sample.kind === "authorize" || sample.kind === "check");
        const final = await finalAnswers(targets, ledger, revokedBefore, DEADLINE_MS);
        const leaked = leakedByReplicas(replicas.servers, [...ledger.secrets(), ...ledger.unknown, replicas.rootToken]);

        recordFaultRow(`Redis fault under load: ${fault.name}`, {
          operations: samples.length,
          wrongfulAllows: wrongfulAllows(samples, ledger, PROPAGATION_MS).length + final.wrongfulAllows,
          tokensLost: final.tokensLost,
          secretsLeaked: leaked,
          recoverySeconds,
          msDuringFault: duringFault.map((sample) => sample.ms),
        });
        expect(decisionsDuringFault.length).toBeGreaterThan(0);
        expect(samples.filter((sample) => sample.outcome === "error").map((sample) => `${sample.kind}: ${sample.detail}`)).toEqual([]);
        expect(samples.filter((sample) => sample.outcome === "deadline" || sample.ms > DEADLINE_MS)).toEqual([]);
        expect(probesWentDown).toBe(true);
        expect(replicas.servers.map((server) => server.child.exitCode)).toEqual([null, null]);
      });
    }
  });
}
