import { Authenticator } from "../../src/credentials/authenticator.js";
import type { CredentialVerifier, Verification } from "../../src/credentials/credential-verifier.js";
import type { Identity, JtiRef } from "../../src/model/identity.js";
import type { FirstUseRegistry, RequirementSource } from "../../src/decision/engine.js";
import type { PolicyRefusal, Requirement } from "../../src/policy/policy.js";
import type { Resource } from "../../src/policy/resource.js";

/** Stand-ins for the engine's dependencies, each recording what it was asked. */

export function identity(overrides: Partial<Identity> & Pick<Identity, "tokenId">): Identity {
  return {
    subject: `token:${overrides.tokenId}`,
    credentialType: "opaque",
    name: overrides.tokenId,
    scopes: [],
    libraries: [],
    allowedTools: [],
    source: "minted",
    ...overrides,
  };
}

/** A verifier that knows a fixed set of bearers; any other bearer is an unknown token. */
export function fakeVerifier(known: Record<string, () => Verification>) {
  const asked: string[] = [];
  const verifier: CredentialVerifier = {
    accepts: () => true,
    async verify(bearer) {
      asked.push(bearer);
      return known[bearer]?.() ?? { rejection: { reason: "unknown_token" } };
    },
  };
  // Every owner active: no owner has a state record.
  return { authenticator: new Authenticator([verifier], { get: async () => undefined }), asked };
}

export function requirement(scope: string, extra: Partial<Requirement> = {}): Requirement {
  return { ruleName: `needs-${scope}`, public: false, scope, singleUse: false, ...extra };
}

/** A policy that answers every resource with `answer`, and knows the rules in `named` by name. */
export function fakePolicy(answer: Requirement | PolicyRefusal | undefined, named: Record<string, Requirement> = {}) {
  const asked: Resource[] = [];
  const policy: RequirementSource = {
    requirementFor(resource) {
      asked.push(resource);
      return answer;
    },
    ruleNamed: (name) => named[name],
  };
  return { policy, asked };
}

/** Remembers every credential instance per rule, as the shared jti ledger does. */
export function fakeFirstUse() {
  const seen = new Set<string>();
  const registry: FirstUseRegistry = {
    async firstUse(ref: JtiRef, ruleName: string) {
      const key = `${ref.issuer} ${ref.jti} ${ruleName}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
  return { registry, seen };
}
