import { errors, importJWK, type CryptoKey, type JWK, type JWSHeaderParameters } from "jose";
import type { Logger } from "pino";
import { systemClock, type Clock } from "../../clock.js";
import { throwIfPast, untilDeadline } from "../../deadline.js";
import { UnavailableError } from "../../errors.js";
import { endpointName, getJsonObject, type HttpLimits } from "../../upstream/bounded-fetch.js";
import { IssuerDiscovery } from "../../upstream/issuer-discovery.js";
import { SPAN_ATTRIBUTES, type Tracing } from "../../tracing/tracing.js";
import { selectJwk, usableJwks } from "./jwk-selection.js";

export interface JwksKeySourceOptions {
  /** Where the key set is; without it, found by discovery from `issuer`. */
  jwksUri?: string;
  issuer?: string;
  /** How long a fetched key set is used before it is fetched again (default 1 h). */
  ttlMs?: number;
  /** Least time between two fetches while a key set is cached (default 30 s). */
  minRefreshIntervalMs?: number;
  /**
   * Age (since the last successful fetch) from which the key set is no
   * longer trusted and getKey throws UnavailableError (default 4 × ttlMs).
   */
  maxStaleMs?: number;
  /** Per fetch: time limit and size cap. */
  fetchLimits?: HttpLimits;
  clock?: Clock;
  log?: Logger;
  /** When tracing is on: each fetch (with its discovery) is a span under the decision that waited for it. */
  tracing?: Tracing;
}

/**
 * Public keys of one issuer, from its JWKS, for jose's `jwtVerify`.
 * `getKey` throws jose's JWKSNoMatchingKey when no key fits the header,
 * and UnavailableError when no key set could be fetched yet or the last one
 * is past its maximum staleness, so an unreachable IdP never turns into a
 * decision.
 */
export interface JwksKeySource {
  /**
   * `signal` is the caller's deadline: once it fires, the caller stops
   * waiting for a fetch (DeadlineExceededError) and starts none; a fetch
   * under way goes on to its own limit, for whoever asks next.
   */
  readonly getKey: (header: JWSHeaderParameters, signal?: AbortSignal) => Promise<CryptoKey>;
  /**
   * The key getKey would answer for `header` now, when that needs no wait:
   * a key set within its maximum staleness whose key for this header is
   * imported already. Undefined otherwise, getKey then answers or says why
   * not. Like getKey, starts a background fetch for a key set past its TTL.
   */
  readonly knownKey: (header: { alg: string; kid?: string }, signal?: AbortSignal) => CryptoKey | undefined;
  /** Fetches the key set now; a failure is logged and retried on first use, never thrown. */
  start(): Promise<void>;
}

export const DEFAULT_JWKS_FETCH_LIMITS: HttpLimits = { timeoutMs: 5000, maxBytes: 256 * 1024 };
export const DEFAULT_JWKS_TTL_MS = 3_600_000;
export const DEFAULT_JWKS_MIN_REFRESH_INTERVAL_MS = 30_000;
/** With no key set at all, the IdP is asked again at most this often. */
const RETRY_WITHOUT_KEYS_MS = 1000;

/**
 * Fetches are coalesced (however many requests want a refresh, one fetch
 * runs) and rate-limited (a flood of made-up kids costs the IdP one fetch
 * per interval). A cached key set outlives an unreachable IdP, up to its
 * maximum staleness: a key the IdP withdrew (after a compromise, say) must
 * not stay trusted for as long as its endpoint is unreachable or blocked.
 */
export function createJwksKeySource(options: JwksKeySourceOptions): JwksKeySource {
  if (options.jwksUri === undefined && options.issuer === undefined) {
    throw new TypeError("createJwksKeySource needs jwksUri or issuer");
  }
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? DEFAULT_JWKS_TTL_MS;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_JWKS_MIN_REFRESH_INTERVAL_MS;
  const maxStaleMs = options.maxStaleMs ?? 4 * ttlMs;
  const limits = options.fetchLimits ?? DEFAULT_JWKS_FETCH_LIMITS;
  const label = options.jwksUri === undefined ? options.issuer : endpointName(options.jwksUri);
  const discovery = new IssuerDiscovery(limits, ttlMs, clock);

  let jwksUri = options.jwksUri;
  let cached: { keys: JWK[]; fetchedAt: number } | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;
  /** Set while the cached key set is past its maximum staleness, so the change is logged once each way. */
  let tooStale = false;
  /** The current key set's JWKs imported, per algorithm; emptied with each new key set. */
  const imported = new Map<JWK, Map<string, Promise<CryptoKey>>>();
  /**
   * The key each header (`alg`, then `kid`) selected from the current key
   * set, once imported: selection is a function of the key set and those two
   * members, so a warm lookup reads it here. Emptied with each new key set.
   */
  const selected = new Map<string, Map<string | undefined, CryptoKey>>();

  async function fetchKeySet(): Promise<void> {
    try {
      jwksUri ??= await discovery.endpoint(options.issuer!, "jwksUri");
      const { status, document } = await getJsonObject(jwksUri, limits, "JWKS");
      const keys = usableJwks(document);
      if (keys === undefined) throw new UnavailableError(`JWKS (${endpointName(jwksUri)}) answered HTTP ${status} without a JWK set`);
      cached = { keys, fetchedAt: clock() };
      imported.clear();
      selected.clear();
      options.log?.debug({ jwks: label, keys: keys.length }, "JWKS fetched");
      if (tooStale) options.log?.info({ jwks: label }, "JWKS fetched again; its issuer's tokens are verified again");
      tooStale = false;
    } catch (error) {
      const stale = cached === undefined ? "no cached keys" : `cached keys stay in use until ${maxStaleMs / 1000} s after the last fetch`;
      options.log?.warn({ jwks: label, reason: describe(error) }, `JWKS fetch failed; ${stale}`);
    }
  }

  const tracing = options.tracing;
  const jwksSpan = { [SPAN_ATTRIBUTES.jwksEndpoint]: label ?? "" };
  const fetchTraced = tracing === undefined ? fetchKeySet : () => tracing.child("portcullis.jwks fetch", "client", jwksSpan, fetchKeySet);

  /** Joins the fetch in flight, or starts one unless the last attempt was too recent. */
  function refresh(counted = true): Promise<void> {
    if (inflight !== undefined) return inflight;
    const now = clock();
    const interval = cached === undefined ? RETRY_WITHOUT_KEYS_MS : minRefreshIntervalMs;
    if (counted && now - lastAttemptAt < interval) return Promise.resolve();
    if (counted) lastAttemptAt = now;
    inflight = fetchTraced().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function staleKeys(): UnavailableError {
    if (!tooStale) {
      tooStale = true;
      options.log?.error(
        { jwks: label, maxStaleS: maxStaleMs / 1000 },
        "JWKS not fetched successfully for longer than its maximum staleness; its issuer's tokens answer Unavailable",
      );
    }
    return new UnavailableError(`signing keys of ${label} are past their maximum staleness`);
  }

  /** Each JWK of the current key set is imported once per algorithm; the JWK object itself names it. */
  function importKey(jwk: JWK, alg: string): Promise<CryptoKey> {
    let byAlg = imported.get(jwk);
    if (byAlg === undefined) {
      byAlg = new Map();
      imported.set(jwk, byAlg);
    }
    let key = byAlg.get(alg);
    if (key === undefined) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      byAlg.set(alg, key);
      key.catch(() => byAlg.delete(alg));
    }
    return key;
  }

  /** A key set past its TTL keeps serving while a fresh one is fetched; a caller past its deadline starts none. */
  function refreshIfOld(age: number, signal: AbortSignal | undefined): void {
    if (age >= ttlMs && signal?.aborted !== true) void refresh();
  }

  function knownSelection(header: { alg?: string; kid?: string }): CryptoKey | undefined {
    return header.alg === undefined ? undefined : selected.get(header.alg)?.get(header.kid);
  }

  /** The key selected and imported for `header` out of `keySet`, remembered while that key set is the current one. */
  async function selectAndImport(keySet: { keys: JWK[] }, header: JWSHeaderParameters): Promise<CryptoKey> {
    const jwk = selectJwk(keySet.keys, header);
    // A JWK is selected only for an algorithm it can verify, so `alg` is there.
    const alg = header.alg;
    if (jwk === undefined || alg === undefined) throw new errors.JWKSNoMatchingKey();
    let key: CryptoKey;
    try {
      key = await importKey(jwk, alg);
    } catch {
      throw new errors.JWKSNoMatchingKey("the matching JWK could not be imported");
    }
    if (cached === keySet) {
      let byKid = selected.get(alg);
      if (byKid === undefined) {
        byKid = new Map();
        selected.set(alg, byKid);
      }
      byKid.set(header.kid, key);
    }
    return key;
  }

  return {
    async getKey(header, signal) {
      /** The caller waits for a fetch only until its deadline, and past it starts none. */
      const refreshFor = () => {
        throwIfPast(signal);
        return untilDeadline(refresh(), signal);
      };
      if (cached === undefined) await refreshFor();
      if (cached === undefined) throw new UnavailableError(`signing keys of ${label} are unavailable`);
      if (clock() - cached.fetchedAt >= maxStaleMs) {
        // Rate-limited and coalesced like any refresh: an unreachable IdP costs one attempt per interval.
        await refreshFor();
        if (clock() - cached.fetchedAt >= maxStaleMs) throw staleKeys();
      } else {
        refreshIfOld(clock() - cached.fetchedAt, signal);
      }
      const known = knownSelection(header);
      if (known !== undefined) return known;
      if (selectJwk(cached.keys, header) === undefined) await refreshFor();
      return selectAndImport(cached, header);
    },
    knownKey(header, signal) {
      if (cached === undefined) return undefined;
      const age = clock() - cached.fetchedAt;
      if (age >= maxStaleMs) return undefined;
      refreshIfOld(age, signal);
      return knownSelection(header);
    },
    async start() {
      // Not counted against the rate limit: the first use retries at once.
      await refresh(false);
    },
  };
}

const MAX_POOLED_SOURCES = 64;

/**
 * One key source per JWKS location, for issuers learnt at run time (an
 * OAuth flow names its upstream). Bounded: past the limit the oldest
 * source is dropped and fetched afresh when needed again.
 */
export function jwksKeySourcePool(options: Omit<JwksKeySourceOptions, "jwksUri" | "issuer">): (jwksUri: string) => JwksKeySource {
  const sources = new Map<string, JwksKeySource>();
  return (jwksUri) => {
    let source = sources.get(jwksUri);
    if (source === undefined) {
      source = createJwksKeySource({ ...options, jwksUri });
      sources.set(jwksUri, source);
      if (sources.size > MAX_POOLED_SOURCES) sources.delete(sources.keys().next().value!);
    }
    return source;
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "unknown error";
}
