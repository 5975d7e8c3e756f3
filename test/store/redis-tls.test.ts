import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { InvalidArgumentError, UnavailableError } from "../../src/errors.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { bearer, createClients } from "../support/clients.js";
import { startInProcess } from "../support/in-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { createTestPki, type TestPki } from "../support/tls-certificates.js";

describe("Redis over TLS (rediss://) with a private CA", () => {
  let pki: TestPki;
  let redis: OwnRedis;
  beforeAll(async () => {
    pki = createTestPki("Redis test CA");
    const serving = pki.server("redis");
    redis = await startOwnRedis({ tls: { cert: serving.cert, key: serving.key, ca: pki.ca.cert } });
  });
  afterAll(async () => {
    await redis?.dispose();
    pki?.dispose();
  });

  it("serves a server on that Redis when redis.tls_ca_file names the CA: tokens minted on it are decided on it", async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const rootToken = generateSecret();
    const server = await startInProcess({ REDIS_URL: redis.url, PORTCULLIS_REDIS_TLS_CA_FILE: pki.ca.cert, PORTCULLIS_ROOT_TOKENS: rootToken });
    try {
      const clients = createClients(server.url);
      const minted = await clients.admin.mintToken({ name: "reader", scopes: ["api:read"] }, bearer(rootToken));
      const decision = await clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "GET /x", requiredScope: "api:read" });
      expect(decision.reason).toBe("ok");
      expect(server.output()).toContain("store: redis");
    } finally {
      await server.stop();
    }
  });

  it("refuses the server's certificate without the CA, naming the reason", async () => {
    const connecting = connectRedis({ url: redis.url, commandTimeoutMs: 500 }, 1_500);
    await expect(connecting).rejects.toBeInstanceOf(UnavailableError);
    await expect(connecting).rejects.toThrow(/within 1500 ms: .*(self-signed|unable to (get|verify))/i);
  });

  it("refuses to start when the CA file cannot be read", async () => {
    await expect(connectRedis({ url: redis.url, commandTimeoutMs: 500, tlsCaFile: `${pki.dir}/missing.crt` }, 1_500)).rejects.toThrow(
      new InvalidArgumentError("redis.tls_ca_file", `cannot read ${pki.dir}/missing.crt (ENOENT)`),
    );
  });
});
