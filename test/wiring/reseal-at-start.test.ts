import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey } from "../../src/credentials/jwt/signing-key-material.js";
import { upstreamTokenSecretContext } from "../../src/oauth/upstream-token-vault.js";
import { keyRing } from "../../src/sealing/secret-sealer.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { keyRingOf, resealAtRest } from "../../src/wiring/sealing.js";
import { captureLog } from "../support/captured-log.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const K0 = { id: "k0", key: Buffer.alloc(32, 9) };
const K1 = { id: "k1", key: Buffer.alloc(32, 1) };
const ring = keyRing([K1], "k1");

describe("re-sealing secrets at rest at start", () => {
  let redis: OwnRedis;
  let store: Store;

  beforeAll(async () => {
    redis = await startOwnRedis();
    store = await openRedisStore({ url: redis.url, prefix: "{reseal}:", commandTimeoutMs: 300, startupTimeoutMs: 5000, waitReplicas: 0 });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.dispose();
  });

  it("does nothing without a key ring", async () => {
    const captured = captureLog();
    await store.signingKeys.create(await generateSigningKey("HS256", 1));
    await resealAtRest(store, keyRingOf(undefined), Date.now, captured.log);
    expect((await store.signingKeys.list())[0]?.secret).not.toMatch(/^pcl-enc:/);
    expect(captured.text()).toBe("");
  });

  it("re-seals what is stored clear and says how many", async () => {
    const captured = captureLog();
    await resealAtRest(store, ring, Date.now, captured.log);
    expect((await store.signingKeys.list()).every((key) => key.secret.startsWith("pcl-enc:v1:k1:"))).toBe(true);
    expect(captured.entries()).toContainEqual(expect.objectContaining({ resealed: 1, keyId: "k1", msg: "sealing: signing keys re-sealed under the sealing key" }));
  });

  it("re-seals the vault's entries sealed under an older key and says how many", async () => {
    const captured = captureLog();
    const older = keyRing([K0], "k0");
    const key = { principal: "token:tok_vault", upstreamId: "github" };
    await store.upstreamTokens.put({
      ...key,
      accessToken: older.seal("upstream-access-token", upstreamTokenSecretContext(key, "access_token")),
      refreshToken: older.seal("upstream-refresh-token", upstreamTokenSecretContext(key, "refresh_token")),
      tokenType: "Bearer",
      scopes: ["repo"],
      expiresAt: 0,
      createdAt: 1,
      refreshedAt: 1,
      tokenEndpoint: "https://idp.example/token",
      clientId: "client",
      tokenEndpointAuthMethod: "none",
      clientSecret: "",
      resource: "",
    });
    await resealAtRest(store, keyRing([K0, K1], "k1"), Date.now, captured.log);
    const record = (await store.upstreamTokens.get(key))!;
    // `ring` holds the new key only.
    expect(ring.open(record.accessToken, upstreamTokenSecretContext(key, "access_token"))).toBe("upstream-access-token");
    expect(ring.open(record.refreshToken, upstreamTokenSecretContext(key, "refresh_token"))).toBe("upstream-refresh-token");
    expect(captured.entries()).toContainEqual(expect.objectContaining({ resealed: 1, keyId: "k1", msg: "sealing: upstream tokens re-sealed under the sealing key" }));
  });

  it("lets the start go on with a warning when the store does not answer", async () => {
    const captured = captureLog();
    await redis.stop();
    try {
      await expect(resealAtRest(store, ring, Date.now, captured.log)).resolves.toBeUndefined();
      expect(captured.entries()).toContainEqual(
        expect.objectContaining({ level: 40, msg: "sealing: the store did not answer; secrets at rest are re-sealed at the next start" }),
      );
    } finally {
      await redis.start();
    }
  });
});
