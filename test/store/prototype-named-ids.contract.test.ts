import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import type { OAuthFlowRecord } from "../../src/model/oauth-flow-record.js";
import type { StoredSigningKey } from "../../src/model/signing-key.js";
import type { StoredTeam } from "../../src/model/team.js";
import { describeStoreContract } from "../support/store-backends.js";
import { aStoredToken } from "../support/store-fixtures.js";

/** Ids that name members every plain JavaScript object inherits; callers may send them (a forged JWT's kid or sub). */
const INHERITED_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

const aTeam = (id: string): StoredTeam => ({ id, name: "payments", libraries: ["lib-1"], createdAt: 1 });
const aKey = (kid: string): StoredSigningKey => ({ kid, algorithm: "HS256", secret: randomBytes(32).toString("base64url"), createdAt: 1 });
const aFlow = (): OAuthFlowRecord => ({
  upstreamIssuer: "",
  tokenEndpoint: "https://idp.example.com/token",
  clientId: "c",
  tokenEndpointAuthMethod: "none",
  redirectUri: "https://app.example.com/cb",
  codeVerifier: "v",
  nonce: "",
  scopes: [],
  resource: "",
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
});

describeStoreContract("prototype-named id", ({ store, reopen }) => {
  afterEach(() => {
    // A write through an inherited member would have landed on every object of the process.
    for (const member of ["retiredAt", "revokedAt", "lastUsedAt", "deactivatedAt", "activeJti", "libraries"]) {
      expect(Object.prototype).not.toHaveProperty(member);
    }
  });

  it.each(INHERITED_NAMES)("finds no token, team or signing key named %s before one is made", async (id) => {
    const { tokens, teams, signingKeys } = store();
    expect(await tokens.get(id)).toBeUndefined();
    expect(await tokens.revoke(id, 5)).toBeUndefined();
    await expect(tokens.touch(id, 5)).resolves.toBeUndefined();
    expect(await teams.get(id)).toBeUndefined();
    expect(await teams.deactivate(id, 5)).toBeUndefined();
    expect(await teams.assignLibraries(id, ["x"])).toBeUndefined();
    expect(await teams.rotateJti(id, undefined, "jti")).toBeUndefined();
    expect(await signingKeys.get(id)).toBeUndefined();
    expect(await signingKeys.retire(id, 5)).toBeUndefined();
    expect(await signingKeys.active()).toBeUndefined();
    expect([await tokens.list(), await teams.list(), await signingKeys.list()]).toEqual([[], [], []]);
  });

  it.each(INHERITED_NAMES)("keeps a token, team and signing key named %s like any other, across a restart", async (id) => {
    await store().tokens.insert(aStoredToken({ id }));
    await store().teams.insert(aTeam(id));
    await store().signingKeys.create(aKey(id));
    expect((await store().tokens.revoke(id, 5))?.revokedAt).toBe(5);
    expect((await store().teams.rotateJti(id, undefined, "jti-1"))?.activeJti).toBe("jti-1");
    expect((await store().signingKeys.retire(id, 6))?.state).toBe("retired");
    const reopened = await reopen();
    expect((await reopened.tokens.get(id))?.revokedAt).toBe(5);
    expect((await reopened.teams.get(id))?.activeJti).toBe("jti-1");
    expect((await reopened.signingKeys.get(id))?.retiredAt).toBe(6);
    expect((await reopened.tokens.list()).map((token) => token.id)).toEqual([id]);
  });

  it.each(INHERITED_NAMES)("claims a jti and an OAuth state named %s once", async (id) => {
    const now = Date.now();
    expect(await store().jti.claim(id, 1, now + 60_000, now)).toEqual({ created: true, value: 1 });
    expect(await store().jti.claim(id, 2, now + 60_000, now)).toEqual({ created: false, value: 1 });
    expect(await store().oauthStates.consume(id, now)).toEqual({ unknown: true });
    await store().oauthStates.insert(id, aFlow());
    expect("record" in (await store().oauthStates.consume(id, Date.now()))).toBe(true);
    expect(await store().oauthStates.consume(id, Date.now())).toEqual({ used: true });
  });
});
