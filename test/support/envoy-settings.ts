import type { EnvoySettings } from "../../src/envoy/envoy-settings.js";

/**
 * Envoy settings as the defaults leave them: the x-auth-* identity headers,
 * Authorization kept, realm `portcullis`, challenges on 403 too.
 */
export const DEFAULT_ENVOY_SETTINGS: EnvoySettings = {
  identityHeaders: {
    subject: "x-auth-subject",
    tokenId: "x-auth-token-id",
    scopes: "x-auth-scopes",
    libraries: "x-auth-libraries",
    credentialType: "x-auth-credential-type",
    issuer: "x-auth-issuer",
    owner: "x-auth-owner",
  },
  removeAuthorization: false,
  realm: "portcullis",
  omitForbiddenChallenge: false,
};
