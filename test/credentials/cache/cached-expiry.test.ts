import { timestampMs } from "@bufbuild/protobuf/wkt";
import { randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, decide, type Clients } from "../../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../../support/redis.js";

const LEEWAY_S = 30;

describe("a cached credential on Redis, with entries allowed to live an hour", () => {
  const redis = testRedisPrefix();
  const rootToken = randomBytes(32).toString("base64url");
  const asRoot = bearer(rootToken);
  /** Portcullis's clock; moved by the test, never by waiting. */
  let now = Date.now();
  let server: InProcessPortcullis;
  let clients: Clients;

  beforeAll(async () => {
    server = await startInProcess(
      {
        REDIS_URL: TEST_REDIS_URL,
        PORTCULLIS_REDIS_PREFIX: redis.prefix,
        PORTCULLIS_ROOT_TOKENS: rootToken,
        PORTCULLIS_CACHE_TTL_MS: "3600000",
        PORTCULLIS_TEAM_TOKEN_LEEWAY_S: String(LEEWAY_S),
      },
      () => now,
    );
    clients = createClients(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await redis.cleanup();
  });

  const allowed = async (token: string) => (await decide(clients, token, "kafka:read")).decision === Decision.ALLOW;

  it("refuses a cached opaque token from the very millisecond it expires", async () => {
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "brief", ttl: { seconds: 60n } }, asRoot);
    const expiresAt = timestampMs(minted.record!.expiresAt!);
    expect(await allowed(minted.token)).toBe(true);
    expect(await allowed(minted.token)).toBe(true);
    now = expiresAt - 1;
    expect(await allowed(minted.token)).toBe(true);
    now = expiresAt;
    expect(await decide(clients, minted.token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "token_expired" });
  });

  it("refuses a cached team token from the very millisecond its exp plus leeway passes", async () => {
    now = Date.now();
    await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
    const { team } = await clients.admin.createTeam({ name: "brief-team", libraries: ["lib-a"] }, asRoot);
    const minted = await clients.admin.mintToken(
      { kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"], ttl: { seconds: 60n } },
      asRoot,
    );
    const validUntil = (decodeJwt(minted.token).exp! + LEEWAY_S) * 1000;
    expect(await allowed(minted.token)).toBe(true);
    expect(await allowed(minted.token)).toBe(true);
    now = validUntil - 1;
    expect(await allowed(minted.token)).toBe(true);
    now = validUntil;
    expect(await decide(clients, minted.token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "token_expired" });
  });
});
