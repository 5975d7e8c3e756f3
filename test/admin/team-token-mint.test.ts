import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { pino } from "pino";
import { expect, it } from "vitest";
import { teamTokenMinter } from "../../src/admin/team-token-mint.js";
import { toConnectError } from "../../src/api/error-mapping.js";
import type { TeamTokenConfig } from "../../src/credentials/jwt/issuer-config.js";
import { generateSigningKey } from "../../src/credentials/jwt/signing-key-material.js";
import { AbortedError } from "../../src/errors.js";
import type { SigningKeyRecord } from "../../src/model/signing-key.js";
import type { StoredTeam } from "../../src/model/team.js";
import type { SigningKeyStore } from "../../src/store/store.js";
import { describeStoreContract } from "../support/store-backends.js";

const CONFIG: TeamTokenConfig = { issuer: "portcullis", audience: "portcullis", ttlS: 3600, leewayS: 30 };
const REQUEST = { scopes: ["kafka:read"], name: "", allowedLibraries: [], allowedTools: [] };

/** The real signing-key store, with `active()` answering through `around` (to line up races). */
function withActive(real: SigningKeyStore, around: (key: SigningKeyRecord | undefined) => Promise<void>): SigningKeyStore {
  return Object.assign(Object.create(real) as SigningKeyStore, {
    active: async () => {
      const key = await real.active();
      await around(key);
      return key;
    },
  });
}

describeStoreContract("team-token minting", ({ store }) => {
  async function teamWithKey(): Promise<StoredTeam> {
    const team: StoredTeam = { id: randomUUID(), name: "payments", libraries: ["lib-a"], createdAt: Date.now() };
    await store().teams.insert(team);
    await store().signingKeys.create(await generateSigningKey("HS256", Date.now()));
    return team;
  }
  const minter = (signingKeys: SigningKeyStore = store().signingKeys) =>
    teamTokenMinter({ signingKeys, teams: store().teams, tokens: store().tokens, config: CONFIG, clock: Date.now });

  it("answers Aborted to the second of two mints that read the same team, so no caller holds a dead token", async () => {
    const team = await teamWithKey();
    await minter()(team.id, REQUEST);
    // Both mints have read the team (and its active jti) before either rotates: two replicas racing.
    let arrived = 0;
    let release = () => {};
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const signingKeys = withActive(store().signingKeys, async () => {
      if (++arrived === 2) release();
      await bothRead;
    });
    const mint = minter(signingKeys);

    const results = await Promise.allSettled([mint(team.id, REQUEST), mint(team.id, REQUEST)]);

    const minted = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const refused = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    expect([minted.length, refused.length]).toEqual([1, 1]);
    expect(refused[0]).toBeInstanceOf(AbortedError);
    expect(toConnectError(refused[0], pino({ level: "silent" })).code).toBe(Code.Aborted);
    expect((await store().teams.get(team.id))?.activeJti).toBe(minted[0]?.token.id);
    // The loser's record was written before it lost: it is withdrawn, so no listed record stands for a token never handed out.
    const records = (await store().tokens.list()).filter((token) => token.teamId === team.id);
    const standing = records.filter((token) => token.revokedAt === undefined).map((token) => token.id);
    expect(records).toHaveLength(3);
    expect(standing).toContain(minted[0]?.token.id);
    expect(standing).toHaveLength(2);
  });

  it("refuses to hand out a token whose signing key was retired while it was signed, leaving the previous token in force", async () => {
    const team = await teamWithKey();
    const plainMint = minter();
    const previous = await plainMint(team.id, REQUEST);
    const signingKeys = withActive(store().signingKeys, async (key) => {
      await store().signingKeys.retire(key!.kid, Date.now());
    });
    const mint = minter(signingKeys);

    await expect(mint(team.id, REQUEST)).rejects.toThrow(AbortedError);
    expect((await store().teams.get(team.id))?.activeJti).toBe(previous.token.id);
    await expect(plainMint(team.id, REQUEST)).rejects.toThrow(/no active signing key/);
  });
});
