import type { DcrRecord } from "../model/dcr-record.js";
import { resealEach, resealedValue, type ResealOutcome } from "../sealing/reseal.js";
import type { KeyRing } from "../sealing/secret-sealer.js";
import type { DcrStore } from "../store/dcr-store.js";
import { dcrSecretContext } from "./dcr-registry.js";

/** Seals the secrets of every DCR entry stored clear or under an older key with the ring's sealing key. */
export async function resealDcrEntries(store: DcrStore, ring: KeyRing, nowMs: number): Promise<ResealOutcome> {
  const stale = (await store.list(undefined, nowMs)).filter((record) => ring.isStale(record.clientSecret) || ring.isStale(record.registrationAccessToken));
  return resealEach(
    stale.map((record) => record.key),
    (key) => `the DCR entry of upstream ${key.upstreamId} at ${key.issuer}`,
    (key) => store.reseal(key, (record) => resealedRecord(ring, record), nowMs),
  );
}

function resealedRecord(ring: KeyRing, record: DcrRecord): DcrRecord | undefined {
  const clientSecret = resealedValue(ring, record.clientSecret, dcrSecretContext(record.key, "client_secret"));
  const registrationAccessToken = resealedValue(ring, record.registrationAccessToken, dcrSecretContext(record.key, "registration_access_token"));
  if (clientSecret === undefined && registrationAccessToken === undefined) return undefined;
  return {
    ...record,
    clientSecret: clientSecret ?? record.clientSecret,
    registrationAccessToken: registrationAccessToken ?? record.registrationAccessToken,
  };
}
