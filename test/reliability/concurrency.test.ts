import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Source } from "../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient } from "../support/envoy-client.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { startReplicas, type Replicas } from "../support/replicas.js";
import { finalAnswers, LOAD_SCOPE, startMixedLoad, wrongfulAllows, type Target } from "./mixed-load.js";
import { leakedByReplicas } from "./replica-probes.js";
import { percentile, recordRow, variant } from "./rows.js";
import { createTokenLedger } from "./token-ledger.js";

const OPERATIONS = variant() === "long" ? 10_000 : 1000;
const DEADLINE_MS = 10_000;
/**
 * docs/caching.md, "How long a revocation takes": at worst one heartbeat
 * (1 s) plus the Redis command timeout (2 s by default) before a replica
 * stops trusting its cache.
 */
const PROPAGATION_MS = 1000 + 2000;

describe("three replicas taking 1,000 mixed operations at once", () => {
  let replicas: Replicas;
  let targets: Target[];
  const writeConfig = configFileWriter();

  beforeAll(async () => {
    const config = writeConfig(stringify({ policy: TEST_POLICY, envoy: { realm: "example" } }));
    replicas = await startReplicas(3, { PORTCULLIS_CONFIG: config, PORTCULLIS_LOG_LEVEL: "info" });
    targets = replicas.servers.map((server) => ({ clients: createClients(server.url), envoy: createEnvoyClient(server.url) }));
  });
  afterAll(async () => {
    for (const target of targets ?? []) target.envoy.close();
    await replicas?.stop();
  });

  it("ends in the state a replay of the acknowledged operations gives, and denies each revoked token once its revoke was acknowledged", async () => {
    const ledger = createTokenLedger();
    const asRoot = bearer(replicas.rootToken);
    for (let index = 0; index < 30; index++) {
      const minted = await targets[index % 3]!.clients.admin.mintToken({ scopes: [LOAD_SCOPE], name: "seed" }, asRoot);
      ledger.minted(minted.token, minted.record!.tokenId);
    }
    const load = startMixedLoad(targets, ledger, {
      rootToken: replicas.rootToken,
      concurrency: 24,
      deadlineMs: DEADLINE_MS,
      mintShare: 0.25,
      revokeShare: 0.2,
      maxOperations: OPERATIONS,
    });
    await load.done;
    const samples = load.samples;
    const failed = samples.filter((sample) => sample.outcome === "unavailable" || sample.outcome === "deadline" || sample.outcome === "error");

    // The replay: every acknowledged mint exists, revoked exactly when its revoke was acknowledged.
    const expected = new Map<string, boolean>();
    for (const tokenId of ledger.valid.values()) expected.set(tokenId, false);
    for (const secret of ledger.revoked.keys()) expected.set(ledger.tokenIdOf(secret)!, true);
    const listed = await targets[0]!.clients.admin.listTokens({}, asRoot);
    // Root tokens from the environment are listed too; the replay is about minted ones.
    const minted = listed.tokens.filter((record) => record.source === Source.MINTED);
    const actual = new Map(minted.map((record) => [record.tokenId, record.revokedAt !== undefined]));

    const final = await finalAnswers(targets, ledger, [...ledger.revoked.keys()], DEADLINE_MS);
    const wrongful = wrongfulAllows(samples, ledger, PROPAGATION_MS).length + final.wrongfulAllows;
    const lost = final.tokensLost + [...expected.keys()].filter((tokenId) => !actual.has(tokenId)).length;
    const leaked = leakedByReplicas(replicas.servers, [...ledger.secrets(), ...ledger.unknown, replicas.rootToken]);

    recordRow({
      test: `Concurrency: 3 replicas, ${OPERATIONS} mixed operations in parallel`,
      operations: samples.length,
      faults: 0,
      badInputs: 0,
      wrongfulAllows: wrongful,
      tokensLost: lost,
      secretsLeaked: leaked,
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    expect(samples.length).toBe(OPERATIONS);
    expect(failed.map((sample) => `${sample.kind}: ${sample.outcome} ${sample.detail ?? ""}`)).toEqual([]);
    expect(ledger.revoked.size).toBeGreaterThan(50);
    expect(actual).toEqual(expected);
    console.info(`decision p99 under the concurrent load: ${percentile(samples.map((sample) => sample.ms), 99)} ms`);
  });
});
