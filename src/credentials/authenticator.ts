import { extractBearer } from "./bearer.js";
import type { CredentialVerifier, Verification } from "./credential-verifier.js";

/**
 * The identity phase: turns an Authorization value into an identity or a
 * rejection, using the first verifier that accepts the bearer's shape.
 */
export class Authenticator {
  constructor(private readonly verifiers: readonly CredentialVerifier[]) {}

  /** `signal` is the caller's deadline, handed to the verifier for what it waits on. */
  async authenticate(authorization: string, signal?: AbortSignal): Promise<Verification> {
    const extraction = extractBearer(authorization);
    if ("reason" in extraction) return { rejection: { reason: extraction.reason } };
    const verifier = this.verifiers.find((candidate) => candidate.accepts(extraction.bearer));
    if (verifier === undefined) return { rejection: { reason: "unknown_token" } };
    return verifier.verify(extraction.bearer, signal);
  }
}
