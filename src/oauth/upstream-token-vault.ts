import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../clock.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { encodeUpstreamTokenKey, upstreamTokenMetadata, type UpstreamTokenKey, type UpstreamTokenMetadata, type UpstreamTokenRecord } from "../model/upstream-token.js";
import type { OAuthFlowRecord } from "../model/oauth-flow-record.js";
import type { UpstreamTokenStore } from "../store/store.js";
import type { HttpLimits } from "../upstream/bounded-fetch.js";
import type { DcrRegistry } from "./dcr-registry.js";
import { randomToken } from "./pkce.js";
import type { SecretSealer } from "../sealing/secret-sealer.js";
import { refreshTokens, resolveAuthMethod, TokenEndpointRefusal, type TokenResponse } from "./token-endpoint.js";

export interface UpstreamTokenVaultSettings {
  /** Refresh this long (ms) before the access token expires. */
  refreshSkewMs: number;
  /** Lifetime (ms) of a refresh lease: at most one refresh of an entry at a time, across replicas. */
  refreshLeaseMs: number;
  /** Longest time (ms) a request waits for another's refresh. */
  refreshWaitMs: number;
  /** Interval (ms) between two looks while waiting. */
  refreshPollMs: number;
}

export interface UpstreamTokenVaultDeps {
  store: UpstreamTokenStore;
  /** The encryption key's sealer; absent when no key is configured, and then nothing is kept. */
  sealer?: SecretSealer;
  dcr: Pick<DcrRegistry, "get">;
  clock: Clock;
  http: HttpLimits;
  settings: UpstreamTokenVaultSettings;
  /** Aborted when the server shuts down: waits end at once. */
  stopping?: AbortSignal;
}

/** What a request gets for a principal's upstream. */
export type UpstreamAccess =
  | { accessToken: string; tokenType: string }
  /** No entry (never stored, deleted, or its refresh token refused): the user must log in upstream again. */
  | { missing: true }
  /** The access token expired and could not be refreshed now; the entry is kept. */
  | { refreshFailed: true };

const MAX_ID_LENGTH = 256;

/** Where a secret field of a vault entry lives: sealed, it opens only as that entry's same field. */
export function upstreamTokenSecretContext(key: UpstreamTokenKey, field: "access_token" | "refresh_token" | "client_secret"): string {
  return `upstream-token:${encodeUpstreamTokenKey(key)}#${field}`;
}

/**
 * Upstream tokens kept for Portcullis principals: sealed at rest, refreshed
 * before expiry by one replica at a time (the refresh lease), a rotated
 * refresh token stored in the same write as the new access token, and an
 * entry whose refresh token the upstream refuses (`invalid_grant`) deleted.
 */
export function createUpstreamTokenVault(deps: UpstreamTokenVaultDeps) {
  const { store, clock, settings } = deps;
  /** Requests of this process for one entry share one look, so a burst makes one lease attempt, not one each. */
  const inFlight = new Map<string, Promise<UpstreamAccess>>();

  const sealerOrRefuse = (): SecretSealer => {
    if (deps.sealer === undefined) {
      throw new FailedPreconditionError("vault_needs_encryption_key: upstream tokens are kept only sealed; configure encryption.keys");
    }
    return deps.sealer;
  };

  const usable = (record: UpstreamTokenRecord, now: number) => record.expiresAt === 0 || now < record.expiresAt;
  const fresh = (record: UpstreamTokenRecord, now: number) => record.expiresAt === 0 || now + settings.refreshSkewMs < record.expiresAt;
  const accessOf = (record: UpstreamTokenRecord): UpstreamAccess => ({
    accessToken: sealerOrRefuse().open(record.accessToken, upstreamTokenSecretContext(record, "access_token")),
    tokenType: record.tokenType,
  });

  /** The refresh, under the lease `leaseId`: the new tokens written and the lease released in one step. */
  async function refresh(record: UpstreamTokenRecord, leaseId: string): Promise<UpstreamAccess> {
    const sealer = sealerOrRefuse();
    let tokens: TokenResponse;
    try {
      const clientSecret =
        record.dcrKey === undefined
          ? sealer.open(record.clientSecret, upstreamTokenSecretContext(record, "client_secret"))
          : (await deps.dcr.get(record.dcrKey)).record.clientSecret;
      tokens = await refreshTokens(
        {
          tokenEndpoint: record.tokenEndpoint,
          clientId: record.clientId,
          clientSecret,
          authMethod: resolveAuthMethod(record.tokenEndpointAuthMethod, clientSecret),
          refreshToken: sealer.open(record.refreshToken, upstreamTokenSecretContext(record, "refresh_token")),
          resource: record.resource,
        },
        deps.http,
      );
    } catch (error) {
      if (error instanceof TokenEndpointRefusal && error.oauthError === "invalid_grant") {
        await store.delete(record);
        await store.releaseLease(record, leaseId);
        return { missing: true };
      }
      await store.releaseLease(record, leaseId);
      // Any other failure keeps the entry: a token not yet expired is still good, a later request tries again.
      return usable(record, clock()) ? accessOf(record) : { refreshFailed: true };
    }
    const now = clock();
    const refreshed: UpstreamTokenRecord = {
      ...record,
      accessToken: sealer.seal(tokens.accessToken, upstreamTokenSecretContext(record, "access_token")),
      // RFC 6749 §6: a new refresh token replaces the old one, which the upstream may already have revoked.
      refreshToken: tokens.refreshToken === "" ? record.refreshToken : sealer.seal(tokens.refreshToken, upstreamTokenSecretContext(record, "refresh_token")),
      tokenType: tokens.tokenType,
      scopes: tokens.scope === "" ? record.scopes : tokens.scope.split(" ").filter((scope) => scope !== ""),
      expiresAt: tokens.expiresIn === 0 ? 0 : now + tokens.expiresIn * 1000,
      refreshedAt: now,
    };
    if (!(await store.put(refreshed, leaseId))) {
      // The lease lapsed and another replica refreshed (or is refreshing): its write wins, ours is dropped.
      const current = await store.get(record);
      return current !== undefined && usable(current, clock()) ? accessOf(current) : { refreshFailed: true };
    }
    return { accessToken: tokens.accessToken, tokenType: tokens.tokenType };
  }

  async function access(key: UpstreamTokenKey, signal?: AbortSignal): Promise<UpstreamAccess> {
    const deadline = clock() + settings.refreshWaitMs;
    for (;;) {
      const record = await store.get(key);
      if (record === undefined) return { missing: true };
      const now = clock();
      if (fresh(record, now)) return accessOf(record);
      if (record.refreshToken === "") return usable(record, now) ? accessOf(record) : { missing: true };
      const leaseId = randomToken();
      if (await store.acquireLease(key, leaseId, settings.refreshLeaseMs, now)) {
        // Another replica may have refreshed between the read and the lease.
        const current = await store.get(key);
        if (current === undefined) {
          await store.releaseLease(key, leaseId);
          return { missing: true };
        }
        if (fresh(current, clock())) {
          await store.releaseLease(key, leaseId);
          return accessOf(current);
        }
        return refresh(current, leaseId);
      }
      // Another replica refreshes: a token not yet expired serves meanwhile; otherwise wait for its result.
      if (usable(record, now)) return accessOf(record);
      const left = deadline - clock();
      if (left <= 0 || deps.stopping?.aborted || signal?.aborted) return { refreshFailed: true };
      try {
        await sleep(Math.min(settings.refreshPollMs, left), undefined, { signal: anyOf(signal, deps.stopping) });
      } catch {
        return { refreshFailed: true };
      }
    }
  }

  return {
    /** Refuses, before a flow starts, what `keep` would refuse at its end. */
    checkKeepable(key: UpstreamTokenKey): void {
      sealerOrRefuse();
      checkedKey(key);
    },

    /**
     * Keeps the tokens a completed flow obtained for `key`, replacing any
     * earlier entry. `clientSecret` is the inline client's secret (kept
     * sealed for refreshes); DCR clients' is read from their resolution.
     */
    async keep(key: UpstreamTokenKey, tokens: TokenResponse, flow: OAuthFlowRecord, clientSecret: string): Promise<UpstreamTokenMetadata> {
      const sealer = sealerOrRefuse();
      checkedKey(key);
      const now = clock();
      const record: UpstreamTokenRecord = {
        ...key,
        accessToken: sealer.seal(tokens.accessToken, upstreamTokenSecretContext(key, "access_token")),
        refreshToken: sealer.seal(tokens.refreshToken, upstreamTokenSecretContext(key, "refresh_token")),
        tokenType: tokens.tokenType,
        scopes: tokens.scope === "" ? [...flow.scopes] : tokens.scope.split(" ").filter((scope) => scope !== ""),
        expiresAt: tokens.expiresIn === 0 ? 0 : now + tokens.expiresIn * 1000,
        createdAt: now,
        refreshedAt: now,
        tokenEndpoint: flow.tokenEndpoint,
        clientId: flow.clientId,
        tokenEndpointAuthMethod: flow.tokenEndpointAuthMethod,
        ...(flow.dcrKey === undefined ? {} : { dcrKey: flow.dcrKey }),
        clientSecret: flow.dcrKey === undefined ? sealer.seal(clientSecret, upstreamTokenSecretContext(key, "client_secret")) : "",
        resource: flow.resource,
      };
      await store.put(record);
      return upstreamTokenMetadata(record);
    },

    /** The access token to send upstream for `key`, refreshed first when it is about to expire. */
    access(key: UpstreamTokenKey, signal?: AbortSignal): Promise<UpstreamAccess> {
      const id = encodeUpstreamTokenKey(key);
      let pending = inFlight.get(id);
      if (pending === undefined) {
        pending = access(key, signal).finally(() => inFlight.delete(id));
        inFlight.set(id, pending);
      }
      return pending;
    },

    /** The entries of a principal, without their secrets. */
    async list(principal: string): Promise<UpstreamTokenMetadata[]> {
      checkedId("principal", principal);
      return (await store.list(principal)).map(upstreamTokenMetadata);
    },

    async delete(key: UpstreamTokenKey): Promise<void> {
      if (!(await store.delete(checkedKey(key)))) throw new NotFoundError("no upstream token for this principal and upstream");
    },

    /** How many entries there were. */
    deleteAll(principal: string): Promise<number> {
      return store.deleteAll(checkedId("principal", principal));
    },
  };
}

export type UpstreamTokenVault = ReturnType<typeof createUpstreamTokenVault>;

function checkedKey(key: UpstreamTokenKey): UpstreamTokenKey {
  checkedId("principal", key.principal);
  checkedId("upstream_id", key.upstreamId);
  return key;
}

/** Principals and upstream ids are names: printable, bounded. */
export function checkedId(field: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value === "" || value.length > MAX_ID_LENGTH || /[\x00-\x20\x7f]/.test(value)) {
    throw new InvalidArgumentError(field, `must be 1-${MAX_ID_LENGTH} printable characters without spaces`);
  }
  return value;
}

function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}
