import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cacheSettings } from "../../../src/credentials/cache/cache-settings.js";
import { credentialCaches, type CredentialCaches } from "../../../src/credentials/cache/credential-caches.js";
import type { Verification } from "../../../src/credentials/credential-verifier.js";
import type { IssuerVerifier } from "../../../src/credentials/jwt/jwt-verifier.js";
import { parseJws, type ParsedJws } from "../../../src/credentials/jwt/jws-shape.js";
import * as keyMaterial from "../../../src/credentials/jwt/signing-key-material.js";
import { signTeamToken } from "../../../src/credentials/jwt/team-token.js";
import { teamTokenVerifier } from "../../../src/credentials/jwt/team-token-verifier.js";
import { openEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import type { Store } from "../../../src/store/store.js";

vi.mock("../../../src/credentials/jwt/signing-key-material.js", async (original) => {
  const actual = await original<typeof import("../../../src/credentials/jwt/signing-key-material.js")>();
  return { ...actual, verificationMaterial: vi.fn(actual.verificationMaterial) };
});

const START = 1_800_000_000_000;
const TTL_MS = 30_000;
const CONCURRENT = 64;
const CONFIG = { issuer: "portcullis", audience: "portcullis", ttlS: 3600, leewayS: 0 };

describe.each(["HS256", "ES256"] as const)("many concurrent first-time verifications of one %s team token", (algorithm) => {
  let dataDir: string;
  let store: Store;
  let caches: CredentialCaches;
  let verifier: IssuerVerifier;
  let now: number;
  let teamId: string;
  let token: string;
  let parsed: ParsedJws;
  /** Store reads that got past the caches, per record kind. */
  let reads: { teams: number; signingKeys: number };
  /** Set by a test to hold team reads between the store's answer and their return. */
  let hold: Promise<void> | undefined;
  /** Set by a test to make the next team read fail. */
  let failNextTeamRead: boolean;

  const verifyAll = (count: number): Promise<Verification[]> => Promise.all(Array.from({ length: count }, () => verifier.verify(token, parsed)));
  const identities = (verifications: Verification[]) => verifications.filter((verification) => "identity" in verification).length;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-stampede-"));
    store = await openEmbeddedStore(dataDir);
    now = START;
    reads = { teams: 0, signingKeys: 0 };
    hold = undefined;
    failNextTeamRead = false;
    vi.mocked(keyMaterial.verificationMaterial).mockClear();

    const key = await keyMaterial.generateSigningKey(algorithm, START);
    await store.signingKeys.create(key);
    teamId = randomUUID();
    await store.teams.insert({ id: teamId, name: "stampede", libraries: ["lib-a"], createdAt: START });
    const signed = await signTeamToken({ key, jti: "tok_stampedestampedestamp", teamId, scopes: ["kafka:read"], config: CONFIG, now: START, ttlMs: 3_600_000 });
    await store.teams.rotateJti(teamId, undefined, signed.jti);
    token = signed.token;
    parsed = parseJws(token) as ParsedJws;

    const counted = {
      ...store,
      teams: {
        ...store.teams,
        get: async (id: string) => {
          reads.teams++;
          if (failNextTeamRead) {
            failNextTeamRead = false;
            throw new Error("the store cannot answer");
          }
          const team = await store.teams.get(id);
          await hold;
          return team;
        },
      },
      signingKeys: {
        ...store.signingKeys,
        get: (kid: string) => {
          reads.signingKeys++;
          return store.signingKeys.get(kid);
        },
      },
    };
    caches = credentialCaches({ store: counted, settings: cacheSettings({ ttl_ms: TTL_MS }), clock: () => now, onHealth: () => undefined });
    verifier = teamTokenVerifier({
      config: CONFIG,
      signingKeys: caches.signingKeys,
      teams: caches.teams,
      tokens: caches.tokens,
      verified: caches.verifiedJwts,
      clock: () => now,
      log: pino({ level: "silent" }),
    });
  });
  afterEach(async () => {
    caches.stop();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("read the team and the signing key once and import the key once, into a key jose need not import again", async () => {
    expect(identities(await verifyAll(CONCURRENT))).toBe(CONCURRENT);
    expect(reads).toEqual({ teams: 1, signingKeys: 1 });
    expect(keyMaterial.verificationMaterial).toHaveBeenCalledTimes(1);
    const material = await vi.mocked(keyMaterial.verificationMaterial).mock.results[0]!.value;
    expect(material).toBeInstanceOf(CryptoKey);
    expect((material as CryptoKey).usages).toEqual(["verify"]);
  });

  it("read each record once more when their entries expire together, not once per waiting request", async () => {
    await verifyAll(CONCURRENT);
    now = START + TTL_MS + 1;
    expect(identities(await verifyAll(CONCURRENT))).toBe(CONCURRENT);
    expect(reads).toEqual({ teams: 2, signingKeys: 2 });
    expect(keyMaterial.verificationMaterial).toHaveBeenCalledTimes(1);
  });

  it("share a failed read as a failure, keep nothing of it, and read again for the next request", async () => {
    failNextTeamRead = true;
    const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => verifier.verify(token, parsed)));
    expect(outcomes.every((outcome) => outcome.status === "rejected")).toBe(true);
    expect(reads.teams).toBe(1);
    expect(identities(await verifyAll(1))).toBe(1);
    expect(reads.teams).toBe(2);
  });

  it("do not hand a request that came after an invalidation the answer of a read begun before it", async () => {
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const before = verifyAll(CONCURRENT);
    await new Promise((resolve) => setImmediate(resolve));
    await store.teams.deactivate(teamId, START + 1);
    const after = verifyAll(CONCURRENT);
    release();
    await before;
    expect((await after).map((verification) => ("rejection" in verification ? verification.rejection.reason : "allowed"))).toEqual(
      Array<string>(CONCURRENT).fill("team_inactive"),
    );
    expect(reads.teams).toBe(2);
  });
});
