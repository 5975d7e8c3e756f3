import type { UpstreamTokenKey, UpstreamTokenRecord } from "../model/upstream-token.js";
import { resealEach, resealedValue, type ResealOutcome } from "../sealing/reseal.js";
import type { KeyRing } from "../sealing/secret-sealer.js";
import type { UpstreamTokenStore } from "../store/upstream-token-store.js";
import { upstreamTokenSecretContext } from "./upstream-token-vault.js";

const SECRET_FIELDS = [
  ["accessToken", "access_token"],
  ["refreshToken", "refresh_token"],
  ["clientSecret", "client_secret"],
] as const;

/**
 * Seals the secrets of every vault entry stored under an older key with the
 * ring's sealing key, so that the older key can leave the ring without
 * waiting for every entry to be refreshed.
 */
export async function resealUpstreamTokens(store: UpstreamTokenStore, ring: KeyRing): Promise<ResealOutcome> {
  const outcome: ResealOutcome = { resealed: 0, failures: [] };
  await store.scan(async (records) => {
    const stale = records.filter((record) => SECRET_FIELDS.some(([field]) => ring.isStale(record[field])));
    const batch = await resealEach(
      stale.map(({ principal, upstreamId }): UpstreamTokenKey => ({ principal, upstreamId })),
      (key) => `the vault entry of principal ${key.principal} for upstream ${key.upstreamId}`,
      (key) => store.reseal(key, (record) => resealedRecord(ring, record)),
    );
    outcome.resealed += batch.resealed;
    outcome.failures.push(...batch.failures);
  });
  return outcome;
}

function resealedRecord(ring: KeyRing, record: UpstreamTokenRecord): UpstreamTokenRecord | undefined {
  let next: UpstreamTokenRecord | undefined;
  for (const [field, name] of SECRET_FIELDS) {
    const sealed = resealedValue(ring, record[field], upstreamTokenSecretContext(record, name));
    if (sealed !== undefined) next = { ...(next ?? record), [field]: sealed };
  }
  return next;
}
