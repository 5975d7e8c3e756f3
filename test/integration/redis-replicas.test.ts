import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { Source } from "../../gen/portcullis/v1/token_admin_pb.js";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { bearer, createClients, decide, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { TEST_TOPOLOGIES, testRedisPrefix, topologyEnv } from "../support/redis.js";

describe.each(TEST_TOPOLOGIES)("two server processes on one Redis ($label)", (topology) => {
  let redis: ReturnType<typeof testRedisPrefix>;
  let dataDir: string;
  const running: PortcullisProcess[] = [];

  beforeEach(async () => {
    redis = testRedisPrefix(topology.settings);
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-replicas-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()));
    await redis.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Two replicas sharing the Redis prefix and the data dir, started at the same moment. */
  async function startReplicas(env: Record<string, string> = {}): Promise<[PortcullisProcess, PortcullisProcess]> {
    const options = { dataDir, env: { ...topologyEnv(topology), PORTCULLIS_REDIS_PREFIX: redis.prefix, ...env } };
    const replicas = await Promise.all([startPortcullisProcess(options), startPortcullisProcess(options)]);
    running.push(...replicas);
    return replicas;
  }

  describe("sharing a configured root token", () => {
    const rootToken = generateSecret();
    let a: Clients;
    let b: Clients;
    beforeEach(async () => {
      const [first, second] = await startReplicas({ PORTCULLIS_ROOT_TOKENS: rootToken });
      a = createClients(first.url);
      b = createClients(second.url);
    });

    it("lets a token minted on one replica pass on the other", async () => {
      const minted = await a.admin.mintToken({ scopes: ["orders:read"], name: "cross" }, bearer(rootToken));
      expect(await decide(b, minted.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
      expect(await decide(b, minted.token, "orders:write")).toEqual({ decision: Decision.DENY, reason: "insufficient_scope" });
    });

    it("denies a token on the other replica once its cache has read the revocation one replica published", async () => {
      const minted = await a.admin.mintToken({ scopes: ["orders:read"], name: "doomed" }, bearer(rootToken));
      expect(await decide(b, minted.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
      await a.admin.revokeToken({ tokenId: minted.record!.tokenId }, bearer(rootToken));
      // B holds the token in its cache until its subscriber reads the invalidation (docs/caching.md, "How long a
      // revocation takes"); a Cluster relays it over the cluster bus, so it may land just after the revoke's answer.
      const revoked = { decision: Decision.DENY, reason: "token_revoked" };
      await eventually(async () => JSON.stringify(await decide(b, minted.token, "orders:read")) === JSON.stringify(revoked), 1000);
      expect(await decide(b, minted.token, "orders:read")).toEqual(revoked);
    });

    it("keeps all of 50 parallel mints split over both replicas, each usable on either", async () => {
      const startedAt = performance.now();
      const minted = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          (index % 2 === 0 ? a : b).admin.mintToken({ scopes: [`topic-${index}:read`], name: `split-${index}` }, bearer(rootToken)),
        ),
      );
      const elapsedMs = performance.now() - startedAt;
      console.info(`50 parallel mints over two replicas on Redis: ${elapsedMs.toFixed(0)} ms`);

      const mintedIds = minted.map((response) => response.record!.tokenId);
      expect(new Set(mintedIds).size).toBe(50);
      for (const clients of [a, b]) {
        const listed = (await clients.admin.listTokens({}, bearer(rootToken))).tokens.map((token) => token.tokenId);
        expect(listed).toEqual(expect.arrayContaining(mintedIds));
      }
      for (const [index, response] of minted.entries()) {
        const other = index % 2 === 0 ? b : a;
        expect(await decide(other, response.token, `topic-${index}:read`)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
      }
    });
  });

  it("creates exactly one bootstrap root token when both start at once without one", async () => {
    const [first, second] = await startReplicas();
    const created = [first, second].filter((server) => server.output().includes("created the bootstrap root token"));
    expect(created).toHaveLength(1);
    expect(await readdir(dataDir)).toEqual(["root.token"]);

    const root = bearer(await first.rootToken());
    const replicas = [createClients(first.url), createClients(second.url)];
    for (const clients of replicas) {
      const listed = await clients.admin.listTokens({}, root);
      expect(listed.tokens.map((token) => token.source)).toEqual([Source.BOOTSTRAP]);
    }
    for (const clients of replicas) {
      const minted = await clients.admin.mintToken({ scopes: ["orders:read"], name: "after-bootstrap" }, root);
      expect(await decide(clients, minted.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    }
  });
});
