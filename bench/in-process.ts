/**
 * Costs measured inside this process, against a baseline timed in the same
 * batches: what no transport can show. First, issue 12's "a warm
 * verified-JWT decision costs at most 5% of one jose RS256 verification":
 * the real engine, built by the factories the server wires itself with
 * (embedded store, the bench's IdP as trusted issuer), decides with an
 * external RS256 token whose verification it has cached, against
 * `jose.jwtVerify` of the same token with the same public key.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { importJWK, jwtVerify, type JWK } from "jose";
import { pino } from "pino";
import { stringify } from "yaml";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { createObservability } from "../src/observability/observability.js";
import { openStore } from "../src/store/open-store.js";
import { TokenAdminService } from "../gen/portcullis/v1/token_admin_pb.js";
import { wireCredentials } from "../src/wiring/credentials.js";
import { buildLiveParts } from "../src/wiring/live-parts.js";
import { costRatio, timeBatches } from "./batch-timing.js";
import { measureConditionCost } from "./condition-cost.js";
import { BENCH_RESOURCE } from "./bench-credentials.js";
import type { InProcessMeasurement } from "./results.js";

export interface InProcessSettings {
  iterations_per_batch: number;
  batches: number;
}

/** What the bench's IdP signs with and trusts: the RS256 token and the key that verifies it. */
export interface Rs256Subject {
  token: string;
  publicJwk: JWK;
  issuer: string;
  audience: string;
}

/** Issue 12's bound on a warm verified-JWT decision, as a share of one RS256 verification. */
const WARM_JWT_TARGET_RATIO = 0.05;

/** Every in-process measurement, each one entry of results.json's `in_process`. */
export async function measureInProcess(config: object, rs256: Rs256Subject, settings: InProcessSettings, workDir: string): Promise<InProcessMeasurement[]> {
  return [await warmVerifiedJwtDecision(config, rs256, settings, workDir), ...(await measureConditionCost(settings))];
}

async function warmVerifiedJwtDecision(config: object, rs256: Rs256Subject, settings: InProcessSettings, workDir: string): Promise<InProcessMeasurement> {
  const engine = await startEngine(config, workDir);
  try {
    const request = { authorization: `Bearer ${rs256.token}`, resource: BENCH_RESOURCE };
    const key = await importJWK(rs256.publicJwk, "RS256");
    const verifyOptions = { issuer: rs256.issuer, audience: rs256.audience, algorithms: ["RS256"] };
    // The first decision fetches the JWKS and fills the verified-JWT cache; the rest are served from it.
    // Both operations run as often before the timing as condition-cost's do, so neither is timed while still being compiled.
    for (let warm = 0; warm < 2_000; warm++) {
      const decision = await engine.decide(request);
      if (!decision.allowed) throw new Error(`the in-process engine does not allow the RS256 token: ${decision.reason}`);
      await jwtVerify(rs256.token, key, verifyOptions);
    }
    const [decisions, verifications] = await timeBatches(
      [() => engine.decide(request), () => jwtVerify(rs256.token, key, verifyOptions)],
      settings.iterations_per_batch,
      settings.batches,
    );
    return {
      name: "warm-verified-jwt-decision",
      description: "DecisionEngine.decide with an external RS256 JWT whose verification is cached, on the embedded store with caches on",
      baseline: "jose.jwtVerify of the same token with the same RS256 public key",
      ...settings,
      ...costRatio(decisions!, verifications!),
      target_ratio: WARM_JWT_TARGET_RATIO,
    };
  } finally {
    await engine.stop();
  }
}

/** The decision engine as src/app.ts wires it (store, credentials with their caches, live parts), without a listener. */
async function startEngine(config: object, workDir: string) {
  const dataDir = await mkdtemp(join(workDir, "in-process-data-"));
  const configPath = join(workDir, "in-process.yaml");
  await writeFile(configPath, stringify({ ...config, data_dir: dataDir }));
  const settings = loadConfig({ PORTCULLIS_CONFIG: configPath });
  // Production's level; the engine itself logs no decision (the transports' instrumentation does).
  const log = pino({ level: "info" }, new Writable({ write: (_chunk, _encoding, done) => done() }));
  const store = await openStore(settings, (error) => log.error({ err: error }, "store failed"), (message) => log.warn(message));
  const credentials = await wireCredentials(settings, store, systemClock, log);
  const observability = createObservability({ metricsEnabled: false, adminServices: [TokenAdminService], decisionLog: settings.decisionLog }, log);
  const { engine } = await buildLiveParts(settings, { credentials, observability, clock: systemClock, log });
  return {
    decide: engine.decide.bind(engine),
    async stop() {
      await credentials.stop();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
