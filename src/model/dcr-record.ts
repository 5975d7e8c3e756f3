import type { DcrKey } from "./dcr-key.js";

/**
 * A DCR resolution as stored. Times are Unix seconds, 0 meaning unset; a
 * `clientSecretExpiresAt` of 0 never expires. Secret fields hold whatever
 * the service layer gives (plain, or sealed when encryption is on).
 */
export interface DcrRecord {
  key: DcrKey;
  providerName: string;
  clientId: string;
  clientSecret: string;
  tokenEndpointAuthMethod: string;
  registrationAccessToken: string;
  registrationClientUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientIdIssuedAt: number;
  clientSecretExpiresAt: number;
  createdAt: number;
}

/** A record whose client secret has expired is a miss. */
export function dcrSecretExpired(record: DcrRecord, nowMs: number): boolean {
  return record.clientSecretExpiresAt !== 0 && record.clientSecretExpiresAt * 1000 <= nowMs;
}
