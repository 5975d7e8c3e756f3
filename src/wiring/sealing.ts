import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { UnavailableError } from "../errors.js";
import { resealDcrEntries } from "../oauth/dcr-reseal.js";
import { resealUpstreamTokens } from "../oauth/upstream-token-reseal.js";
import type { EncryptionSettings } from "../sealing/encryption-settings.js";
import type { ResealOutcome } from "../sealing/reseal.js";
import { resealSigningKeys } from "../sealing/sealed-signing-keys.js";
import { keyRing, plainSealer, type KeyRing } from "../sealing/secret-sealer.js";
import type { Store } from "../store/store.js";

/** The configured ring; without keys, the plain sealer (values stay clear, sealed ones are refused). */
export function keyRingOf(settings: EncryptionSettings | undefined): KeyRing {
  return settings === undefined ? plainSealer : keyRing(settings.keys, settings.sealWith);
}

/**
 * At start, before serving: seals what is stored clear or under an older
 * key with the sealing key (signing keys, DCR entries, vault entries),
 * record by record (each an atomic compare-and-set, so replicas starting
 * together are safe). A record no
 * key of the ring opens is left as it is and named in a warning; using it
 * then fails with `secret_key_unknown`. Without keys there is nothing to do.
 * A store that cannot answer now does not stop the start: what is stored
 * still opens with the ring, and the next start re-seals it.
 */
export async function resealAtRest(store: Store, ring: KeyRing, clock: Clock, log: Logger): Promise<void> {
  if (ring.sealingKeyId === undefined) return;
  try {
    await resealEverything(store, ring, clock, log);
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    log.warn({ err: error }, "sealing: the store did not answer; secrets at rest are re-sealed at the next start");
  }
}

async function resealEverything(store: Store, ring: KeyRing, clock: Clock, log: Logger): Promise<void> {
  const report = (kind: string, outcome: ResealOutcome) => {
    if (outcome.resealed > 0) log.info({ resealed: outcome.resealed, keyId: ring.sealingKeyId }, `sealing: ${kind} re-sealed under the sealing key`);
    for (const failure of outcome.failures) log.warn(`sealing: ${failure}; left as stored`);
  };
  report("signing keys", await resealSigningKeys(store.signingKeys, ring));
  report("DCR entries", await resealDcrEntries(store.dcr, ring, clock()));
  report("upstream tokens", await resealUpstreamTokens(store.upstreamTokens, ring));
}
