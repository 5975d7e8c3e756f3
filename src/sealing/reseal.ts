import { AbortedError, FailedPreconditionError } from "../errors.js";
import type { KeyRing } from "./secret-sealer.js";

/** How many times a re-seal that lost a race to another writer reads the record again. */
const ATTEMPTS = 3;

/** What one re-sealing pass over a kind of record did. */
export interface ResealOutcome {
  resealed: number;
  /** Records left as they were, each with why (a key id not configured, a damaged value); never a secret. */
  failures: string[];
}

/**
 * `stored` sealed again with the ring's sealing key; undefined when it needs
 * nothing (already under that key, no key configured, or empty). Throws
 * what `open` throws for a value no key of the ring opens.
 */
export function resealedValue(ring: KeyRing, stored: string, context: string): string | undefined {
  if (!ring.isStale(stored)) return undefined;
  const plain = ring.open(stored, context);
  const sealed = ring.seal(plain, context);
  return sealed === stored ? undefined : sealed;
}

/**
 * Re-seals each record by `reseal` (one atomic compare-and-set each, so
 * replicas starting together re-seal a record once and overwrite nothing),
 * reading it again when another writer changed it in between.
 */
export async function resealEach<Id>(ids: readonly Id[], name: (id: Id) => string, reseal: (id: Id) => Promise<boolean>): Promise<ResealOutcome> {
  const outcome: ResealOutcome = { resealed: 0, failures: [] };
  for (const id of ids) {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await reseal(id)) outcome.resealed++;
        break;
      } catch (error) {
        if (error instanceof AbortedError && attempt < ATTEMPTS) continue;
        // A record that cannot be re-sealed is reported; an outage stops the pass.
        if (!(error instanceof AbortedError) && !(error instanceof FailedPreconditionError)) throw error;
        outcome.failures.push(`${name(id)}: ${(error as Error).message}`);
        break;
      }
    }
  }
  return outcome;
}
