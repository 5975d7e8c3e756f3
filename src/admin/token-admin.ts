import type { Clock } from "../clock.js";
import type { CallerRequirement } from "../decision/decision.js";
import { generateSecret, isTokenId, tokenIdFromHash, type SecretHasher } from "../credentials/opaque-token.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import type { StoredTeam } from "../model/team.js";
import type { StoredToken } from "../model/token.js";
import type { TeamStore, TokenStore } from "../store/store.js";
import { validateMint, type MintInput } from "./mint-validation.js";
import type { TeamTokenMinter } from "./team-token-mint.js";
import { tokenView, type TokenView } from "./token-view.js";

export interface TokenAdminDeps {
  requireRoot: (authorization: string) => Promise<Identity>;
  mintTeamToken: TeamTokenMinter;
  tokens: TokenStore;
  /** Team tokens are in force while their team says so; revoking one clears the team's active jti. */
  teams: TeamStore;
  configTokens: ReadonlyMap<string, StoredToken>;
  hasher: SecretHasher;
  clock: Clock;
}

const MINT_ATTEMPTS = 3;

/** Who may administer tokens, signing keys and teams: what `requireRoot` asks the engine. */
export const TOKEN_ADMINISTRATOR: CallerRequirement = { kind: "root", purpose: "token administration" };

/**
 * Token administration; every operation first proves the caller is root.
 * Opaque and team tokens share one list of records (src/admin/token-view.ts
 * says how a team token's record is shown).
 */
export function createTokenAdmin(deps: TokenAdminDeps) {
  const { requireRoot } = deps;

  async function find(id: string): Promise<Readonly<StoredToken>> {
    if (id === "") throw new InvalidArgumentError("token_id", "is required");
    if (!isTokenId(id)) throw new InvalidArgumentError("token_id", "is not a token id (tok_ and 22 characters)");
    const token = deps.configTokens.get(id) ?? (await deps.tokens.get(id));
    if (token === undefined) throw new NotFoundError(`token ${id} not found`);
    return token;
  }

  /** Takes a team token out of force on every replica; the team as it is afterwards. */
  async function clearTeamToken(teamId: string, jti: string): Promise<StoredTeam | undefined> {
    await deps.teams.clearJti(teamId, jti);
    return deps.teams.get(teamId);
  }

  return {
    async mint(
      authorization: string,
      input: MintInput,
      kind: { teamJwt: false } | { teamJwt: true; teamId: string } = { teamJwt: false },
    ): Promise<{ secret: string; token: TokenView }> {
      await requireRoot(authorization);
      const request = validateMint(input);
      if (kind.teamJwt) return deps.mintTeamToken(kind.teamId, request);
      for (let attempt = 1; ; attempt++) {
        const secret = generateSecret();
        const hash = deps.hasher.hash(secret);
        const createdAt = deps.clock();
        const token: StoredToken = {
          id: tokenIdFromHash(hash),
          hash,
          scopes: request.scopes,
          name: request.name,
          allowedLibraries: request.allowedLibraries,
          allowedTools: request.allowedTools,
          source: "minted",
          ...(request.owner === undefined ? {} : { owner: request.owner }),
          createdAt,
          ...(request.ttlMs === undefined ? {} : { expiresAt: createdAt + request.ttlMs }),
        };
        try {
          await deps.tokens.insert(token);
          return { secret, token: tokenView(token, createdAt) };
        } catch (error) {
          if (!(error instanceof AlreadyExistsError) || attempt >= MINT_ATTEMPTS) throw error;
        }
      }
    },

    async list(authorization: string): Promise<TokenView[]> {
      await requireRoot(authorization);
      const stored = await deps.tokens.list();
      const teams = stored.some((token) => token.teamId !== undefined)
        ? new Map((await deps.teams.list()).map((team) => [team.id, team]))
        : new Map<string, StoredTeam>();
      const now = deps.clock();
      return [...deps.configTokens.values(), ...stored].map((token) => tokenView(token, now, teams.get(token.teamId ?? "")));
    },

    async get(authorization: string, id: string): Promise<TokenView> {
      await requireRoot(authorization);
      const token = await find(id);
      const team = token.teamId === undefined ? undefined : await deps.teams.get(token.teamId);
      return tokenView(token, deps.clock(), team);
    },

    async revoke(authorization: string, id: string): Promise<TokenView> {
      const caller = await requireRoot(authorization);
      if (id === caller.tokenId) throw new FailedPreconditionError("a token cannot revoke itself");
      const token = await find(id);
      if (token.source === "config") {
        throw new FailedPreconditionError(`token ${id} comes from the configuration file; remove it there`);
      }
      // The team's jti first: should the record's write then fail, the token is refused already and a retry completes.
      const team = token.teamId === undefined ? undefined : await clearTeamToken(token.teamId, id);
      const now = deps.clock();
      const revoked = await deps.tokens.revoke(id, now);
      if (revoked === undefined) throw new NotFoundError(`token ${id} not found or already revoked`);
      return tokenView(revoked, now, team);
    },

    /** Deactivates (`active` false) or reactivates an opaque token; revocation alone is for good. */
    async setActive(authorization: string, id: string, active: boolean): Promise<TokenView> {
      const caller = await requireRoot(authorization);
      if (!active && id === caller.tokenId) throw new FailedPreconditionError("a token cannot deactivate itself");
      const token = await find(id);
      if (token.source === "config") {
        throw new FailedPreconditionError(`token ${id} comes from the configuration file; remove it there`);
      }
      if (token.teamId !== undefined) {
        throw new FailedPreconditionError(`token ${id} is a team token: deactivate its team or revoke it`);
      }
      if (token.revokedAt !== undefined) throw new NotFoundError(`token ${id} is revoked`);
      const now = deps.clock();
      const changed = await deps.tokens.setActive(id, active, now);
      if (changed === undefined) throw new FailedPreconditionError(`token ${id} is already ${active ? "active" : "deactivated"} or revoked`);
      return tokenView(changed, now);
    },
  };
}

export type TokenAdmin = ReturnType<typeof createTokenAdmin>;
