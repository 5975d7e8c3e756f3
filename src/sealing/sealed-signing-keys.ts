import type { SigningKeyRecord } from "../model/signing-key.js";
import type { SigningKeyStore } from "../store/signing-key-store.js";
import type { Store } from "../store/store.js";
import { resealEach, resealedValue, type ResealOutcome } from "./reseal.js";
import type { KeyRing, SecretSealer } from "./secret-sealer.js";

/** Where a key's sealed material lives: it opens only as the same key's secret. */
export function signingKeySecretContext(kid: string): string {
  return `signing_key:${kid}#secret`;
}

/**
 * The signing keys with their private material (`secret`: the HMAC secret,
 * the private JWK) sealed before it reaches the store and opened when read;
 * the public JWK stays clear for the JWKS. A record stored clear opens as it
 * is, until re-sealed (`resealSigningKeys`).
 */
export function sealedSigningKeyStore(inner: SigningKeyStore, sealer: SecretSealer): SigningKeyStore {
  const opened = <Key extends SigningKeyRecord | undefined>(key: Key): Key =>
    key === undefined ? key : { ...key, secret: sealer.open(key.secret, signingKeySecretContext(key.kid)) };
  return {
    create: (key) => inner.create({ ...key, secret: sealer.seal(key.secret, signingKeySecretContext(key.kid)) }),
    get: async (kid) => opened(await inner.get(kid)),
    list: async () => (await inner.list()).map(opened),
    active: async () => opened(await inner.active()),
    retire: async (kid, at) => opened(await inner.retire(kid, at)),
    resealSecret: (kid, reseal) => inner.resealSecret(kid, reseal),
  };
}

/**
 * For administration, which shows keys but never their material: a created
 * key is sealed, every read answers the key as stored (its material still
 * sealed), so that a key no configured key opens can still be listed and
 * retired.
 */
export function adminSigningKeyStore(inner: SigningKeyStore, sealer: SecretSealer): SigningKeyStore {
  const sealing = sealedSigningKeyStore(inner, sealer);
  return {
    create: (key) => sealing.create(key),
    get: (kid) => inner.get(kid),
    list: () => inner.list(),
    active: () => inner.active(),
    retire: (kid, at) => inner.retire(kid, at),
    resealSecret: (kid, reseal) => inner.resealSecret(kid, reseal),
  };
}

/** The store with `signingKeys` sealed; every other part is the store's own. */
export function withSealedSigningKeys(store: Store, sealer: SecretSealer): Store {
  const sealed = Object.create(store) as Store & { signingKeys: SigningKeyStore };
  Object.defineProperty(sealed, "signingKeys", { value: sealedSigningKeyStore(store.signingKeys, sealer), enumerable: true });
  return sealed;
}

/** Seals every key stored clear or under an older key with the ring's sealing key (`keys` as stored, unsealed store). */
export async function resealSigningKeys(keys: SigningKeyStore, ring: KeyRing): Promise<ResealOutcome> {
  const stale = (await keys.list()).filter((key) => ring.isStale(key.secret)).map((key) => key.kid);
  return resealEach(
    stale,
    (kid) => `signing key ${kid}`,
    (kid) => keys.resealSecret(kid, (stored) => resealedValue(ring, stored, signingKeySecretContext(kid))),
  );
}
