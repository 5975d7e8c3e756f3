import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Authenticator } from "../../src/credentials/authenticator.js";
import { cacheSettings } from "../../src/credentials/cache/cache-settings.js";
import { credentialCaches, type CredentialCaches } from "../../src/credentials/cache/credential-caches.js";
import type { CredentialVerifier } from "../../src/credentials/credential-verifier.js";
import { LastUsedTracker } from "../../src/credentials/last-used-tracker.js";
import { generateSecret, SecretHasher, tokenIdFromHash } from "../../src/credentials/opaque-token.js";
import { opaqueVerifier } from "../../src/credentials/opaque-verifier.js";
import { UnavailableError } from "../../src/errors.js";
import type { Identity } from "../../src/model/identity.js";
import { openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { aStoredToken } from "../support/store-fixtures.js";

const NOW = 1_800_000_000_000;

/** A verifier that vouches for every bearer as `identity`. */
const vouching = (identity: Partial<Identity>): CredentialVerifier => ({
  accepts: () => true,
  verify: async () => ({
    identity: { subject: "team:t", tokenId: "tok_x", credentialType: "team_token", name: "t", scopes: ["a"], libraries: [], allowedTools: [], ...identity },
  }),
});

describe("the identity phase's owner and token-state denials", () => {
  let dataDir: string;
  let store: Store;
  let caches: CredentialCaches;
  let lastUsed: LastUsedTracker;
  const hasher = new SecretHasher();

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-owners-"));
    store = await openEmbeddedStore(dataDir);
    caches = credentialCaches({ store, settings: cacheSettings({}), clock: () => NOW, onHealth: () => undefined });
    lastUsed = new LastUsedTracker((id, at) => store.tokens.touch(id, at), () => NOW, 60_000, () => undefined);
  });
  afterEach(async () => {
    caches.stop();
    await lastUsed.stop();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function mintedToken(owner?: string): Promise<{ secret: string; id: string }> {
    const secret = generateSecret();
    const hash = hasher.hash(secret);
    const id = tokenIdFromHash(hash);
    await store.tokens.insert(aStoredToken({ id, hash, ...(owner === undefined ? {} : { owner }), name: "owned", createdAt: NOW }));
    return { secret, id };
  }

  const opaque = () => opaqueVerifier({ tokens: caches.tokens, configTokens: new Map(), hasher, clock: () => NOW, lastUsed });

  it("refuses every credential of a deactivated owner with owner_disabled, through a warm cache, and accepts it again once reactivated", async () => {
    const authenticator = new Authenticator([opaque()], caches.owners);
    const { secret } = await mintedToken("alice");
    const team = new Authenticator([vouching({ owner: "alice" })], caches.owners);
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toMatchObject({ identity: { owner: "alice" } });
    expect(await team.authenticate("Bearer x")).toMatchObject({ identity: { owner: "alice" } });

    await store.owners.setActive("alice", false, NOW, "tok_root");
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toMatchObject({ rejection: { reason: "owner_disabled", identity: { owner: "alice" } } });
    expect(await team.authenticate("Bearer x")).toMatchObject({ rejection: { reason: "owner_disabled", identity: { owner: "alice" } } });

    await store.owners.setActive("alice", true, NOW, "tok_root");
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toMatchObject({ identity: { owner: "alice" } });
  });

  it("leaves credentials of other owners and of none untouched", async () => {
    await store.owners.setActive("alice", false, NOW, "tok_root");
    const authenticator = new Authenticator([opaque()], caches.owners);
    const bobs = await mintedToken("bob");
    const nobodys = await mintedToken();
    expect(await authenticator.authenticate(`Bearer ${bobs.secret}`)).toMatchObject({ identity: { owner: "bob" } });
    const unowned = await authenticator.authenticate(`Bearer ${nobodys.secret}`);
    expect(unowned).toMatchObject({ identity: { tokenId: nobodys.id } });
    expect("identity" in unowned ? unowned.identity.owner : "refused").toBeUndefined();
  });

  it("refuses a deactivated token with token_inactive and accepts it again once reactivated", async () => {
    const authenticator = new Authenticator([opaque()], caches.owners);
    const { secret, id } = await mintedToken();
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toMatchObject({ identity: { tokenId: id } });
    await store.tokens.setActive(id, false, NOW);
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toEqual({ rejection: { reason: "token_inactive" } });
    await store.tokens.setActive(id, true, NOW);
    expect(await authenticator.authenticate(`Bearer ${secret}`)).toMatchObject({ identity: { tokenId: id } });
  });

  it("throws UnavailableError, never an identity, when the owner's state cannot be read", async () => {
    const failing = { get: async () => Promise.reject(new UnavailableError("store down")) };
    const authenticator = new Authenticator([vouching({ owner: "alice" })], failing);
    await expect(authenticator.authenticate("Bearer x")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("refuses an owned credential when no owner state can be consulted at all", async () => {
    expect(await new Authenticator([vouching({ owner: "alice" })]).authenticate("Bearer x")).toEqual({ rejection: { reason: "owner_disabled" } });
  });
});
