import type { Clock } from "../../clock.js";
import type { OwnerStatus } from "../../model/owner.js";
import type { SigningKeyRecord } from "../../model/signing-key.js";
import type { StoredTeam } from "../../model/team.js";
import type { StoredToken } from "../../model/token.js";
import type { OwnerStore, SigningKeyStore, TeamStore, TokenStore } from "../../store/store.js";
import type { CacheCoherence } from "./cache-coherence.js";
import { CoherentCache, type CacheBounds } from "./coherent-cache.js";

/** What the verifiers read of the store: one record by id. */
export type TokenReader = Pick<TokenStore, "get">;
export type TeamReader = Pick<TeamStore, "get">;
export type SigningKeyReader = Pick<SigningKeyStore, "get">;
export type OwnerReader = Pick<OwnerStore, "get">;

/**
 * The record a cache holds for an id now, without a store read; undefined
 * when it holds none or the invalidation feed is down. Every read answers
 * the very object held until the record changes, expires or is evicted, and
 * a record once gone is never held again: the same object is the same
 * record, unchanged.
 */
export interface HeldRecords<V> {
  held(id: string): Readonly<V> | undefined;
}

/**
 * The store's read side as the verifiers see it, through caches. A store
 * error passes through and nothing is kept; a miss of a team or key is not
 * kept (only a valid signature leads to those reads). An unknown token id is
 * kept in a bounded cache of its own, briefly: it is the one answer a later
 * write (a mint, an import) changes for the better. An owner's state is
 * read on every decision of an owned credential, and most owners have no
 * record at all (never changed: active), so that answer is kept too.
 *
 * Concurrent misses of one record share one store read, so a cold or just
 * expired entry costs one read however many requests wait for it, not one
 * each (a stampede that queued every request behind hundreds of identical
 * reads). A request joins a read only while the feed is healthy and no
 * invalidation came since the read began: exactly when a kept entry would
 * answer it; otherwise it reads for itself.
 */
export function cachedReads(deps: {
  store: { tokens: TokenReader; teams: TeamReader; signingKeys: SigningKeyReader; owners: OwnerReader };
  coherence: CacheCoherence;
  bounds: CacheBounds;
  negative: CacheBounds;
  clock: Clock;
}) {
  const { coherence, clock } = deps;
  const tokens = new CoherentCache<Readonly<StoredToken>>(coherence, "token", deps.bounds, clock);
  const unknownTokens = new CoherentCache<true>(coherence, "token", deps.negative, clock);
  const teams = new CoherentCache<Readonly<StoredTeam>>(coherence, "team", deps.bounds, clock);
  const signingKeys = new CoherentCache<Readonly<SigningKeyRecord>>(coherence, "signing_key", deps.bounds, clock);
  const owners = new CoherentCache<Readonly<{ status: OwnerStatus | undefined }>>(coherence, "owner", deps.bounds, clock);

  /** An unexpired token is kept no longer than it is valid; a denial for good (revoked, expired) for the whole bound. */
  const lifetimeOf = (token: StoredToken): number | undefined => {
    if (token.revokedAt !== undefined || token.expiresAt === undefined) return undefined;
    const left = token.expiresAt - clock();
    return left > 0 ? left : undefined;
  };

  /** `read` through `cache`; concurrent misses of one id share one store read. */
  function readThrough<V extends object>(
    cache: CoherentCache<Readonly<V>>,
    read: (id: string) => Promise<V | undefined>,
    lifetime: (value: V) => number | undefined = () => undefined,
  ) {
    /** Store reads under way, with the ticket each took. */
    const reading = new Map<string, { ticket: number; value: Promise<Readonly<V> | undefined> }>();
    return async (id: string): Promise<Readonly<V> | undefined> => {
      const cached = cache.get(id);
      if (cached !== undefined) return cached;
      const ticket = coherence.ticket();
      const joined = reading.get(id);
      if (joined !== undefined && joined.ticket === ticket && coherence.usable) return joined.value;
      const flight = {
        ticket,
        value: read(id).then((value) => {
          if (value === undefined) return undefined;
          // Shared by every request that joined the read, whether kept or not.
          const shared = frozen(value);
          cache.keep(id, shared, ticket, lifetime(value));
          return shared;
        }),
      };
      reading.set(id, flight);
      try {
        return await flight.value;
      } finally {
        if (reading.get(id) === flight) reading.delete(id);
      }
    };
  }
  const tokenRead = readThrough(tokens, (id) => deps.store.tokens.get(id), lifetimeOf);
  const ownerRead = readThrough(owners, async (id): Promise<{ status: OwnerStatus | undefined }> => ({ status: await deps.store.owners.get(id) }));

  return {
    tokens: {
      async get(id) {
        if (unknownTokens.get(id) !== undefined) return undefined;
        const ticket = coherence.ticket();
        const token = await tokenRead(id);
        if (token === undefined) unknownTokens.keep(id, true, ticket);
        return token;
      },
    } satisfies TokenReader,
    teams: { get: readThrough(teams, (id) => deps.store.teams.get(id)), held: (id) => teams.get(id) } satisfies TeamReader & HeldRecords<StoredTeam>,
    signingKeys: {
      get: readThrough(signingKeys, (kid) => deps.store.signingKeys.get(kid)),
      held: (kid) => signingKeys.get(kid),
    } satisfies SigningKeyReader & HeldRecords<SigningKeyRecord>,
    owners: {
      async get(id) {
        const entry = await ownerRead(id);
        return entry?.status;
      },
    } satisfies OwnerReader,
    /** Entries held now, per cache. */
    sizes: () => ({
      tokens: tokens.size,
      unknownTokens: unknownTokens.size,
      teams: teams.size,
      signingKeys: signingKeys.size,
      owners: owners.size,
    }),
  };
}

/** A cached record is shared by every request that reads it, so none may change it (records nest one level: lists, a JWK). */
function frozen<V extends object>(value: V): Readonly<V> {
  for (const member of Object.values(value)) if (typeof member === "object" && member !== null) Object.freeze(member);
  return Object.freeze(value);
}
