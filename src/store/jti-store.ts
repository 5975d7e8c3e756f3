/** The outcome of a claim: whether this call made the record, and the value the live record holds. */
export interface JtiClaim {
  created: boolean;
  value: number;
}

/** Short-lived records keyed by credential instance (replay and single-use state). */
export interface JtiStore {
  /**
   * Records `value` under `id` until `retainUntil` (ms) unless a live record
   * exists, and answers the live record. Atomic across replicas: of many
   * concurrent claims on one id exactly one is `created`.
   */
  claim(id: string, value: number, retainUntil: number, now: number): Promise<JtiClaim>;
}
