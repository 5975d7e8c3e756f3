import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Decision, Denied } from "../decision/decision.js";
import { identityHeaderList, identityHeaderValue } from "../http-semantics/percent-encoding.js";
import type { Identity } from "../model/identity.js";
import { insufficientScopeChallenge, unauthenticatedChallenge } from "./bearer-challenge.js";
import type { EnvoySettings, IdentityHeaders } from "./envoy-settings.js";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOptionSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { CheckResponseSchema, type CheckResponse, type OkHttpResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";

type HeaderOption = MessageInitShape<typeof HeaderValueOptionSchema>;

const GRPC_OK = 0;

/**
 * Envoy's answer for a decision: allow with identity headers, or a 401/403
 * Envoy sends to the client. `upstreamAuthorization`, on an allow, replaces
 * the request's `authorization` header (upstream tokens).
 */
export function checkResponseOf(decision: Decision, settings: EnvoySettings, upstreamAuthorization?: string): CheckResponse {
  const dynamicMetadata = accessLogMetadata(decision);
  if (decision.allowed) {
    return create(CheckResponseSchema, {
      status: { code: GRPC_OK },
      httpResponse: { case: "okResponse", value: okResponse(decision.identity, settings, upstreamAuthorization) },
      dynamicMetadata,
    });
  }
  const denied = deniedAnswer(decision, settings);
  return create(CheckResponseSchema, {
    status: { code: denied.grpcCode, message: decision.reason },
    httpResponse: {
      case: "deniedResponse",
      value: {
        status: { code: denied.httpStatus },
        headers: [
          ...DENIED_HEADERS.map(([name, value]) => overwrite(name, value)),
          ...(denied.challenge === undefined ? [] : [overwrite("www-authenticate", denied.challenge)]),
        ],
        body: denied.body,
      },
    },
    dynamicMetadata,
  });
}

/** The identity headers, in this order: each one's name in the settings. */
export const IDENTITY_HEADERS = ["subject", "tokenId", "scopes", "libraries", "credentialType", "issuer", "owner"] as const satisfies readonly (keyof IdentityHeaders)[];

/**
 * The value of each of IDENTITY_HEADERS for an allow, "" where the request
 * has none (the header is then removed). Values come from credentials:
 * encoded, never passed raw (README, "What Envoy gets back").
 */
export function identityHeaderValues(identity: Identity | undefined): string[] {
  return [
    identityHeaderValue(identity?.subject ?? ""),
    identityHeaderValue(identity?.tokenId ?? ""),
    identityHeaderList(identity?.scopes ?? []),
    identityHeaderList(identity?.libraries ?? []),
    identity?.credentialType ?? "",
    identityHeaderValue(identity?.issuerAlias ?? ""),
    identityHeaderValue(identity?.owner ?? ""),
  ];
}

/** Headers of every denial Envoy sends to the client, before the challenge. */
export const DENIED_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "application/json"],
  ["cache-control", "no-store"],
];

/** What a denial says to Envoy (gRPC code) and, through Envoy, to the client. */
export interface DeniedAnswer {
  grpcCode: Code;
  httpStatus: StatusCode;
  /** The WWW-Authenticate value, if the denial carries one. */
  challenge?: string;
  body: string;
}

export function deniedAnswer(decision: Denied, settings: EnvoySettings): DeniedAnswer {
  const unauthenticated = decision.denial === "unauthenticated";
  return {
    grpcCode: unauthenticated ? Code.Unauthenticated : Code.PermissionDenied,
    httpStatus: unauthenticated ? StatusCode.Unauthorized : StatusCode.Forbidden,
    challenge: unauthenticated
      ? unauthenticatedChallenge(settings, decision.reason, decision.upstreamToken)
      : decision.reason === "insufficient_scope" && decision.requiredScope !== undefined && !settings.omitForbiddenChallenge
        ? insufficientScopeChallenge(settings, decision.requiredScope)
        : undefined,
    body: JSON.stringify({ error: decision.reason }),
  };
}

/**
 * Identity headers for the upstream. Envoy applies `headers` before
 * `headers_to_remove`, so a header Portcullis sets must not also be removed:
 * set ones overwrite whatever the client sent, and the names without a value
 * for this request (no identity on a public route, no libraries) are
 * removed, so a client can never pass its own.
 */
function okResponse(
  identity: Identity | undefined,
  settings: EnvoySettings,
  upstreamAuthorization: string | undefined,
): MessageInitShape<typeof OkHttpResponseSchema> {
  const values = identityHeaderValues(identity);
  const names = IDENTITY_HEADERS.map((key) => settings.identityHeaders[key]);
  const swapped = upstreamAuthorization !== undefined;
  return {
    headers: [
      ...names.flatMap((name, index) => (values[index] === "" ? [] : [overwrite(name, values[index]!)])),
      ...(swapped ? [overwrite("authorization", upstreamAuthorization)] : []),
    ],
    // The swapped credential is set, so it must not be removed too (removals come after).
    headersToRemove: [...names.filter((_name, index) => values[index] === ""), ...(settings.removeAuthorization && !swapped ? ["authorization"] : [])],
  };
}

export function overwrite(key: string, value: string): HeaderOption {
  // Without `append`, older Envoys (which know no append_action) overwrite too.
  return { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}

/** Set by Envoy under `envoy.filters.http.ext_authz` for access logs; never a secret. Every value is a string. */
export function accessLogMetadata(decision: Decision): Record<string, string> {
  const metadata: Record<string, string> = { decision: decision.allowed ? "allow" : "deny", reason: decision.reason };
  if (!decision.allowed) metadata.denial = decision.denial;
  if (decision.requiredScope !== undefined) metadata.required_scope = decision.requiredScope;
  const identity = decision.identity;
  if (identity !== undefined) {
    metadata.subject = identity.subject;
    metadata.token_id = identity.tokenId;
    metadata.credential_type = identity.credentialType;
    metadata.name = identity.name;
    if (identity.issuerAlias !== undefined) metadata.issuer = identity.issuerAlias;
    if (identity.owner !== undefined) metadata.owner = identity.owner;
  }
  return metadata;
}
