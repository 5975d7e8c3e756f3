import { create } from "@bufbuild/protobuf";
import type { DcrKey as DomainDcrKey } from "../model/dcr-key.js";
import type { DcrKeyInput } from "../oauth/dcr-key-input.js";
import type { DcrEntry as DomainDcrEntry } from "../oauth/dcr-registry.js";
import type { DcrResolutionInput } from "../oauth/dcr-validation.js";
import { DcrEntrySchema, DcrKeySchema, type DcrEntry, type DcrKey, type DcrResolution } from "../../gen/portcullis/v1/dcr_pb.js";

export function dcrKeyInput(key: DcrKey | undefined): DcrKeyInput | undefined {
  if (key === undefined) return undefined;
  return {
    issuer: key.issuer,
    upstreamId: key.upstreamId,
    redirectUri: key.redirectUri,
    scopesHash: key.scopeSet.case === "scopesHash" ? key.scopeSet.value : undefined,
    scopes: key.scopeSet.case === "scopes" ? key.scopeSet.value.values : undefined,
  };
}

export function dcrResolutionInput(resolution: DcrResolution | undefined): DcrResolutionInput | undefined {
  if (resolution === undefined) return undefined;
  // int64 beyond the safe range turns into an unsafe number, which validation refuses.
  return {
    ...resolution,
    clientIdIssuedAt: Number(resolution.clientIdIssuedAt),
    clientSecretExpiresAt: Number(resolution.clientSecretExpiresAt),
    createdAt: Number(resolution.createdAt),
  };
}

export function dcrKeyMessage(key: DomainDcrKey): DcrKey {
  return create(DcrKeySchema, {
    issuer: key.issuer,
    upstreamId: key.upstreamId,
    redirectUri: key.redirectUri,
    scopeSet: { case: "scopesHash", value: key.scopesHash },
  });
}

export function dcrEntryMessage(entry: DomainDcrEntry): DcrEntry {
  const { record } = entry;
  return create(DcrEntrySchema, {
    key: dcrKeyMessage(record.key),
    resolution: {
      clientId: record.clientId,
      clientSecret: record.clientSecret,
      authorizationEndpoint: record.authorizationEndpoint,
      tokenEndpoint: record.tokenEndpoint,
      registrationAccessToken: record.registrationAccessToken,
      registrationClientUri: record.registrationClientUri,
      tokenEndpointAuthMethod: record.tokenEndpointAuthMethod,
      redirectUri: record.key.redirectUri,
      providerName: record.providerName,
      clientIdIssuedAt: BigInt(record.clientIdIssuedAt),
      clientSecretExpiresAt: BigInt(record.clientSecretExpiresAt),
      createdAt: BigInt(record.createdAt),
    },
    stale: entry.stale,
    hasClientSecret: entry.hasClientSecret,
  });
}
