import { inBearerAlphabet, takeBearer } from "./bearer.js";
import type { OwnerReader } from "./cache/cached-reads.js";
import type { CredentialVerifier, Verification } from "./credential-verifier.js";

/**
 * The identity phase: turns an Authorization value into an identity or a
 * rejection, using the first verifier that accepts the bearer's shape. An
 * identity that names an owner is then refused (`owner_disabled`) while that
 * owner is deactivated: one check here covers every kind of credential an
 * owner can hold. The owner's state is read on every such decision (through
 * the caches); a store error passes as UnavailableError, never as an allow.
 */
export class Authenticator {
  constructor(
    private readonly verifiers: readonly CredentialVerifier[],
    private readonly owners?: OwnerReader,
  ) {}

  /** `signal` is the caller's deadline, handed to the verifier for what it waits on. */
  async authenticate(authorization: string, signal?: AbortSignal): Promise<Verification> {
    const taken = takeBearer(authorization);
    if ("reason" in taken) return { rejection: { reason: taken.reason } };
    // A recalled bearer is one a verifier accepted before, after the checks below: they would pass it again.
    const verification = this.recalled(taken.bearer, signal) ?? (await this.verified(taken.bearer, signal));
    if (!("identity" in verification) || verification.identity.owner === undefined) return verification;
    // Without an owner reader no owned credential can be vouched for.
    if (this.owners === undefined) return { rejection: { reason: "owner_disabled" } };
    const owner = await this.owners.get(verification.identity.owner);
    if (owner?.deactivatedAt !== undefined) return { rejection: { reason: "owner_disabled", identity: verification.identity } };
    return verification;
  }

  private recalled(bearer: string, signal: AbortSignal | undefined): Verification | undefined {
    for (const verifier of this.verifiers) {
      const recalled = verifier.recall?.(bearer, signal);
      if (recalled !== undefined) return recalled;
    }
    return undefined;
  }

  private async verified(bearer: string, signal: AbortSignal | undefined): Promise<Verification> {
    const checked = inBearerAlphabet(bearer);
    if ("reason" in checked) return { rejection: { reason: checked.reason } };
    const verifier = this.verifiers.find((candidate) => candidate.accepts(bearer));
    if (verifier === undefined) return { rejection: { reason: "unknown_token" } };
    return verifier.verify(bearer, signal);
  }
}
