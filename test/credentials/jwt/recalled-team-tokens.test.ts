import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { teamTokenMinter } from "../../../src/admin/team-token-mint.js";
import { Authenticator } from "../../../src/credentials/authenticator.js";
import { cacheSettings } from "../../../src/credentials/cache/cache-settings.js";
import { credentialCaches, type CredentialCaches } from "../../../src/credentials/cache/credential-caches.js";
import type { CredentialVerifier } from "../../../src/credentials/credential-verifier.js";
import type { TeamTokenConfig } from "../../../src/credentials/jwt/issuer-config.js";
import { jwtVerifier } from "../../../src/credentials/jwt/jwt-verifier.js";
import { generateSigningKey } from "../../../src/credentials/jwt/signing-key-material.js";
import { teamTokenVerifier } from "../../../src/credentials/jwt/team-token-verifier.js";
import { openEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import { InvalidationHub } from "../../../src/store/invalidation.js";
import type { Store } from "../../../src/store/store.js";

const START = 1_800_000_000_000;
/** Longer than any token's life here, so only the test that lets the records expire sees them expire. */
const TTL_MS = 600_000;
const CONFIG: TeamTokenConfig = { issuer: "portcullis", audience: "portcullis", ttlS: 3600, leewayS: 30 };
const MINT = { scopes: ["kafka:read"], name: "", allowedLibraries: [], allowedTools: [] };

/**
 * A warm team token is answered from the verified-JWT cache without being
 * taken apart, by the verifier that vouched for it, while the record caches
 * hold the very key and team records its identity was made of. These are
 * the ends of that answer: each change to the store refuses it at once.
 */
describe("a team token verified before", () => {
  let dataDir: string;
  let store: Store;
  /** The invalidation feed the caches hear: the store's, passed on while `forwarding`. */
  let feed: InvalidationHub;
  let forwarding: boolean;
  let caches: CredentialCaches;
  let now: number;
  /** Store reads that got past the caches, per record kind. */
  let reads: { teams: number; signingKeys: number };
  let teamId: string;
  let token: string;
  let jwt: CredentialVerifier;
  let authenticator: Authenticator;

  /** A new token of team `id`, which replaces its current one, as MintToken does it. */
  const mintFor = async (id: string, ttlMs?: number) => {
    const mint = teamTokenMinter({ signingKeys: store.signingKeys, teams: store.teams, tokens: store.tokens, config: CONFIG, clock: () => now });
    return (await mint(id, { ...MINT, ...(ttlMs === undefined ? {} : { ttlMs }) })).secret;
  };

  /** The team-token verifier of `config` over the caches, as the wiring builds it. */
  const verifierOf = (config: TeamTokenConfig): CredentialVerifier => {
    const log = pino({ level: "silent" });
    const { signingKeys, teams, tokens, verifiedJwts: verified } = caches;
    const team = teamTokenVerifier({ config, signingKeys, teams, tokens, verified, clock: () => now, log });
    return jwtVerifier(new Map([[config.issuer, team]]), caches.verifiedJwts);
  };
  const authenticate = (bearer: string) => authenticator.authenticate(`Bearer ${bearer}`);
  const reasonFor = async (bearer: string) => {
    const verification = await authenticate(bearer);
    return "rejection" in verification ? verification.rejection.reason : "allowed";
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-recalled-team-"));
    store = await openEmbeddedStore(dataDir);
    now = START;
    reads = { teams: 0, signingKeys: 0 };
    feed = new InvalidationHub({ healthy: true, reason: "test" });
    forwarding = true;
    store.watchInvalidations((invalidation) => {
      if (!forwarding || invalidation.kind === "health") return;
      if (invalidation.kind === "all") feed.flush();
      else feed.changed(invalidation.kind, invalidation.id);
    });
    const counted = {
      ...store,
      teams: {
        ...store.teams,
        get: (id: string) => {
          reads.teams++;
          return store.teams.get(id);
        },
      },
      signingKeys: {
        ...store.signingKeys,
        get: (kid: string) => {
          reads.signingKeys++;
          return store.signingKeys.get(kid);
        },
      },
      watchInvalidations: (listener: Parameters<Store["watchInvalidations"]>[0]) => feed.watch(listener),
    };
    caches = credentialCaches({ store: counted, settings: cacheSettings({ ttl_ms: TTL_MS }), clock: () => now, onHealth: () => undefined });
    jwt = verifierOf(CONFIG);
    authenticator = new Authenticator([jwt], caches.owners);

    await store.signingKeys.create(await generateSigningKey("HS256", START));
    teamId = randomUUID();
    await store.teams.insert({ id: teamId, name: "payments", owner: "alice", libraries: ["lib-a"], createdAt: START });
    token = await mintFor(teamId);
    expect(await reasonFor(token)).toBe("allowed");
  });
  afterEach(async () => {
    caches.stop();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is recalled without a store read, with the identity its verification made, frozen", async () => {
    const verified = await authenticate(token);
    const before = { ...reads };
    const recalled = jwt.recall?.(token);
    expect(recalled).toEqual(verified);
    expect(recalled).toMatchObject({
      identity: { subject: `team:${teamId}`, credentialType: "team_token", libraries: ["lib-a"], scopes: ["kafka:read"] },
    });
    expect(Object.isFrozen((recalled as { identity: object }).identity)).toBe(true);
    expect(reads).toEqual(before);
  });

  it("is refused with key_retired right after its signing key is retired", async () => {
    const { kid } = (await store.signingKeys.active())!;
    await store.signingKeys.retire(kid, START);
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await reasonFor(token)).toBe("key_retired");
  });

  it("is refused with team_inactive right after its team is deactivated", async () => {
    await store.teams.deactivate(teamId, START);
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await reasonFor(token)).toBe("team_inactive");
  });

  it("is refused with token_rotated right after a newer token is minted for its team, which is allowed", async () => {
    const newer = await mintFor(teamId);
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await reasonFor(token)).toBe("token_rotated");
    expect(await reasonFor(newer)).toBe("allowed");
  });

  it("is refused with token_revoked right after it is revoked", async () => {
    const jti = (await store.teams.get(teamId))!.activeJti!;
    await store.teams.clearJti(teamId, jti);
    await store.tokens.revoke(jti, START);
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await reasonFor(token)).toBe("token_revoked");
  });

  it("is refused with token_expired from the millisecond its exp plus leeway passes", async () => {
    const shortLived = await mintFor(teamId, 60_000);
    expect(await reasonFor(shortLived)).toBe("allowed");
    now = START + 60_000 + CONFIG.leewayS * 1000 - 1;
    expect(jwt.recall?.(shortLived)).toHaveProperty("identity");
    now += 1;
    expect(jwt.recall?.(shortLived)).toBeUndefined();
    expect(await reasonFor(shortLived)).toBe("token_expired");
  });

  it("is refused with owner_disabled right after its team's owner is deactivated", async () => {
    await store.owners.setActive("alice", false, START, "tok_root");
    expect(await authenticate(token)).toMatchObject({ rejection: { reason: "owner_disabled", identity: { owner: "alice" } } });
  });

  it("answers the team's libraries as reassigned, right after", async () => {
    await store.teams.assignLibraries(teamId, ["lib-b"]);
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await authenticate(token)).toMatchObject({ identity: { libraries: ["lib-b"] } });
    expect(jwt.recall?.(token)).toMatchObject({ identity: { libraries: ["lib-b"] } });
  });

  it("is verified afresh, and still allowed, once its key turns verify-only", async () => {
    await store.signingKeys.create(await generateSigningKey("HS256", START));
    expect(jwt.recall?.(token)).toBeUndefined();
    expect(await reasonFor(token)).toBe("allowed");
    expect(jwt.recall?.(token)).toHaveProperty("identity");
  });

  it("is verified afresh, reading the store, once a cached record it was made of expires", async () => {
    now = START + TTL_MS / 2;
    const otherTeam = randomUUID();
    await store.teams.insert({ id: otherTeam, name: "search", libraries: [], createdAt: now });
    const other = await mintFor(otherTeam);
    // Verified with the key record cached at START, which expires first.
    expect(await reasonFor(other)).toBe("allowed");
    now = START + TTL_MS + 1;
    expect(jwt.recall?.(other)).toBeUndefined();
    const keyReads = reads.signingKeys;
    expect(await reasonFor(other)).toBe("allowed");
    expect(reads.signingKeys).toBe(keyReads + 1);
    expect(jwt.recall?.(other)).toHaveProperty("identity");
  });

  it("is not recalled by a verifier of other settings, which answers as its own settings read it", async () => {
    const reloaded = verifierOf({ ...CONFIG, leewayS: 0 });
    expect(reloaded.recall?.(token)).toBeUndefined();
    const verified = await reloaded.verify(token);
    expect(verified).toMatchObject({ identity: { jti: { validUntil: START + CONFIG.ttlS * 1000 } } });
  });

  it("is neither recalled nor read from the caches while the invalidation feed is down, so an unannounced change refuses it", async () => {
    feed.health(false, "test");
    forwarding = false;
    expect(jwt.recall?.(token)).toBeUndefined();
    await store.teams.deactivate(teamId, START);
    const teamReads = reads.teams;
    expect(await reasonFor(token)).toBe("team_inactive");
    expect(await reasonFor(token)).toBe("team_inactive");
    expect(reads.teams).toBe(teamReads + 2);
  });
});
