import { setTimeout as sleep } from "node:timers/promises";
import type { Clock } from "../clock.js";
import { InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import { encodeDcrKey, type DcrKey } from "../model/dcr-key.js";
import { dcrSecretExpired, type DcrRecord } from "../model/dcr-record.js";
import type { DcrAcquisition, DcrStore } from "../store/store.js";
import { canonicalDcrKey, type DcrKeyInput } from "./dcr-key-input.js";
import { validResolution, type DcrResolutionInput } from "./dcr-validation.js";
import type { DcrConfig } from "./oauth-settings.js";
import { randomToken } from "./pkce.js";
import type { SecretSealer } from "../sealing/secret-sealer.js";

/** A stored resolution as callers see it. */
export interface DcrEntry {
  record: DcrRecord;
  /** Older than the configured age; still usable. */
  stale: boolean;
  hasClientSecret: boolean;
}

/** The store's answer with the record shown as an entry; a lease or a held lease passes through as is. */
export type Acquisition = { entry: DcrEntry } | Exclude<DcrAcquisition, { record: DcrRecord }>;

export type AwaitResult = { outcome: "resolved"; entry: DcrEntry } | { outcome: "lease_expired" } | { outcome: "timeout" };

const MIN_LEASE_MS = 1000;
const MAX_LEASE_MS = 10 * 60 * 1000;
const DEFAULT_AWAIT_MS = 10_000;

export interface DcrRegistryDeps {
  store: DcrStore;
  clock: Clock;
  sealer: SecretSealer;
  settings: Pick<DcrConfig, "staleAfterMs" | "leaseTtlMs" | "awaitMaxMs" | "awaitPollMs">;
  /** Aborted when the server shuts down: waits end at once with UnavailableError instead of holding the shutdown. */
  stopping?: AbortSignal;
}

/** Where a sealed DCR secret lives: it opens only in the same entry's same field. */
export function dcrSecretContext(key: DcrKey, field: "client_secret" | "registration_access_token"): string {
  return `dcr:${encodeDcrKey(key)}#${field}`;
}

/**
 * The DCR credential store's rules on top of either backend: validation,
 * sealing of secrets, expiry (a past client_secret_expires_at is a miss),
 * staleness, and the registration lease.
 */
export function createDcrRegistry(deps: DcrRegistryDeps) {
  const { store, clock, sealer, settings } = deps;
  // An entry of unknown age (ToolHive's created_at 0) is not called stale: re-registering could orphan a good client.
  const isStale = (record: DcrRecord, now: number) =>
    record.createdAt !== 0 && record.createdAt * 1000 + settings.staleAfterMs <= now;

  const entryOf = (stored: DcrRecord, now: number): DcrEntry => ({
    record: {
      ...stored,
      clientSecret: sealer.open(stored.clientSecret, dcrSecretContext(stored.key, "client_secret")),
      registrationAccessToken: sealer.open(stored.registrationAccessToken, dcrSecretContext(stored.key, "registration_access_token")),
    },
    stale: isStale(stored, now),
    hasClientSecret: stored.clientSecret !== "",
  });

  async function find(key: DcrKey): Promise<DcrEntry | undefined> {
    const now = clock();
    const stored = await store.get(key, now);
    return stored === undefined || dcrSecretExpired(stored, now) ? undefined : entryOf(stored, now);
  }

  return {
    async get(keyInput: DcrKeyInput | undefined): Promise<DcrEntry> {
      const entry = await find(canonicalDcrKey(keyInput));
      if (entry === undefined) throw new NotFoundError("no DCR resolution for this key (or its client secret expired)");
      return entry;
    },

    async put(
      keyInput: DcrKeyInput | undefined,
      resolution: DcrResolutionInput | undefined,
      leaseId: string,
    ): Promise<{ entry: DcrEntry; leaseReleased: boolean }> {
      const key = canonicalDcrKey(keyInput);
      const now = clock();
      const plain = validResolution(resolution, key, Math.floor(now / 1000));
      const sealed: DcrRecord = {
        ...plain,
        clientSecret: sealer.seal(plain.clientSecret, dcrSecretContext(key, "client_secret")),
        registrationAccessToken: sealer.seal(plain.registrationAccessToken, dcrSecretContext(key, "registration_access_token")),
      };
      const { leaseReleased } = await store.put(sealed, now, leaseId === "" ? undefined : leaseId);
      return { entry: entryOf(sealed, now), leaseReleased };
    },

    async delete(keyInput: DcrKeyInput | undefined): Promise<void> {
      if (!(await store.delete(canonicalDcrKey(keyInput), clock()))) throw new NotFoundError("no DCR resolution for this key");
    },

    /** Secrets are left out (emptied); `hasClientSecret` tells whether there is one. */
    async list(issuer: string): Promise<DcrEntry[]> {
      const now = clock();
      const records = await store.list(issuer === "" ? undefined : issuer, now);
      return records
        .filter((record) => !dcrSecretExpired(record, now))
        .map((record) => ({
          record: { ...record, clientSecret: "", registrationAccessToken: "" },
          stale: isStale(record, now),
          hasClientSecret: record.clientSecret !== "",
        }));
    },

    async acquire(keyInput: DcrKeyInput | undefined, ttlMs: number | undefined): Promise<Acquisition> {
      const key = canonicalDcrKey(keyInput);
      const ttl = ttlMs ?? settings.leaseTtlMs;
      if (!(ttl >= MIN_LEASE_MS && ttl <= MAX_LEASE_MS)) throw new InvalidArgumentError("ttl", "must be between 1 s and 10 min");
      const now = clock();
      const outcome = await store.acquire(key, randomToken(), Math.round(ttl), now);
      return "record" in outcome ? { entry: entryOf(outcome.record, now) } : outcome;
    },

    /** Polls until the resolution appears, the lease is gone without one, or the time is up. */
    async await(keyInput: DcrKeyInput | undefined, timeoutMs: number | undefined, signal?: AbortSignal): Promise<AwaitResult> {
      const key = canonicalDcrKey(keyInput);
      const timeout = timeoutMs ?? Math.min(DEFAULT_AWAIT_MS, settings.awaitMaxMs);
      if (!(timeout > 0 && timeout <= settings.awaitMaxMs)) {
        throw new InvalidArgumentError("timeout", `must be positive and at most ${settings.awaitMaxMs} ms`);
      }
      const deadline = clock() + timeout;
      const stopping = deps.stopping;
      const wakeUp = stopping === undefined || signal === undefined ? (signal ?? stopping) : AbortSignal.any([signal, stopping]);
      for (;;) {
        if (stopping?.aborted) throw shuttingDown();
        const entry = await find(key);
        if (entry !== undefined) return { outcome: "resolved", entry };
        if ((await store.leaseExpiry(key, clock())) === undefined) {
          // The holder may have written and released between the two reads.
          const late = await find(key);
          return late === undefined ? { outcome: "lease_expired" } : { outcome: "resolved", entry: late };
        }
        const left = deadline - clock();
        if (left <= 0) return { outcome: "timeout" };
        try {
          await sleep(Math.min(settings.awaitPollMs, left), undefined, { signal: wakeUp });
        } catch {
          if (stopping?.aborted) throw shuttingDown();
          // The caller went away; nobody reads the answer.
          return { outcome: "timeout" };
        }
      }
    },
  };
}

/** Unavailable, not a timeout: the caller asks again, and another replica (or this one restarted) answers. */
function shuttingDown(): UnavailableError {
  return new UnavailableError("Portcullis is shutting down; ask again");
}

export type DcrRegistry = ReturnType<typeof createDcrRegistry>;
