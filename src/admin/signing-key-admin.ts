import type { Clock } from "../clock.js";
import { isIssuedKeyId } from "../credentials/jwt/key-id.js";
import { generateSigningKey } from "../credentials/jwt/signing-key-material.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import type { SigningKeyAlgorithm, SigningKeyRecord, SigningKeyState } from "../model/signing-key.js";
import type { SigningKeyStore } from "../store/store.js";

/** What may be shown of a signing key: never its material. */
export interface SigningKeyView {
  kid: string;
  algorithm: SigningKeyAlgorithm;
  state: SigningKeyState;
  createdAt: number;
  retiredAt?: number;
}

export function signingKeyView(key: SigningKeyRecord): SigningKeyView {
  const view: SigningKeyView = { kid: key.kid, algorithm: key.algorithm, state: key.state, createdAt: key.createdAt };
  if (key.retiredAt !== undefined) view.retiredAt = key.retiredAt;
  return view;
}

/** Signing keys for team tokens; every operation first proves the caller is root. */
export function createSigningKeyAdmin(deps: {
  requireRoot: (authorization: string) => Promise<unknown>;
  signingKeys: SigningKeyStore;
  clock: Clock;
}) {
  return {
    async create(authorization: string, algorithm: SigningKeyAlgorithm): Promise<SigningKeyView> {
      await deps.requireRoot(authorization);
      const key = await generateSigningKey(algorithm, deps.clock());
      await deps.signingKeys.create(key);
      return signingKeyView({ ...key, state: "active" });
    },

    async list(authorization: string): Promise<SigningKeyView[]> {
      await deps.requireRoot(authorization);
      return (await deps.signingKeys.list()).map(signingKeyView);
    },

    async retire(authorization: string, kid: string): Promise<SigningKeyView> {
      await deps.requireRoot(authorization);
      if (kid === "") throw new InvalidArgumentError("kid", "is required");
      if (!isIssuedKeyId(kid)) throw new InvalidArgumentError("kid", "is not a key id Portcullis issues (at most 64 letters, digits, _ and -)");
      const retired = await deps.signingKeys.retire(kid, deps.clock());
      if (retired === undefined) throw new NotFoundError(`signing key ${kid} not found or already retired`);
      return signingKeyView(retired);
    },
  };
}

export type SigningKeyAdmin = ReturnType<typeof createSigningKeyAdmin>;
