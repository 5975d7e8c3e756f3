import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import type { JtiRef } from "../model/identity.js";
import type { JtiStore } from "../store/store.js";

/**
 * Replay and single-use state of credential instances (issuer + jti),
 * shared by every replica through the store. Records are keyed by a digest,
 * so a long or odd jti never becomes a long or odd store key.
 */
export class JtiLedger {
  constructor(
    private readonly store: JtiStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a presentation. A jti may be presented again while it is valid;
   * once the validity recorded at its first presentation has passed, it is
   * a replay (false) for as long as `retainMs` more, whatever `exp` a
   * re-signed token claims.
   */
  async presented(ref: JtiRef, retainMs: number): Promise<boolean> {
    const now = this.clock();
    const claim = await this.store.claim(recordId("seen", ref), ref.validUntil, ref.validUntil + retainMs, now);
    return claim.value >= now;
  }

  /** True for the first presentation of this credential under `ruleName`, across every replica. */
  async firstUse(ref: JtiRef, ruleName: string): Promise<boolean> {
    const claim = await this.store.claim(recordId(`once:${ruleName}`, ref), ref.validUntil, ref.validUntil, this.clock());
    return claim.created;
  }
}

function recordId(purpose: string, ref: JtiRef): string {
  return createHash("sha256").update(purpose).update("\0").update(ref.issuer).update("\0").update(ref.jti).digest("base64url");
}
