import { createOwnerAdmin } from "../admin/owner-admin.js";
import { createSigningKeyAdmin } from "../admin/signing-key-admin.js";
import { createTeamAdmin } from "../admin/team-admin.js";
import { teamTokenMinter } from "../admin/team-token-mint.js";
import { createTokenAdmin, TOKEN_ADMINISTRATOR } from "../admin/token-admin.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { CallerGate } from "../decision/caller-gate.js";
import type { SigningKeyStore, Store } from "../store/store.js";
import type { Credentials } from "./credentials.js";

/**
 * Token, signing-key, team and owner administration, each asking the engine whether its caller is root.
 * `adminSigningKeys` seals what it creates and shows keys as stored (src/sealing/sealed-signing-keys.ts).
 */
export function wireAdministration(
  config: Config,
  store: Store,
  adminSigningKeys: SigningKeyStore,
  credentials: Credentials,
  caller: CallerGate,
  clock: Clock,
) {
  const requireRoot = (authorization: string) => caller(authorization, TOKEN_ADMINISTRATOR);
  return {
    tokens: createTokenAdmin({
      requireRoot,
      mintTeamToken: teamTokenMinter({
        signingKeys: store.signingKeys,
        teams: store.teams,
        tokens: store.tokens,
        config: config.jwt.teamTokens,
        clock,
      }),
      tokens: store.tokens,
      teams: store.teams,
      configTokens: credentials.configTokens,
      hasher: credentials.hasher,
      clock,
    }),
    signingKeys: createSigningKeyAdmin({ requireRoot, signingKeys: adminSigningKeys, clock }),
    teams: createTeamAdmin({ requireRoot, teams: store.teams, clock }),
    owners: createOwnerAdmin({ requireRoot, owners: store.owners, tokens: store.tokens, teams: store.teams, clock }),
  };
}

export type Administration = ReturnType<typeof wireAdministration>;
