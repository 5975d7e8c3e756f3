import { create, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Decision } from "../decision/decision.js";
import { identityHeaderList, identityHeaderValue } from "../http-semantics/percent-encoding.js";
import type { Identity } from "../model/identity.js";
import { insufficientScopeChallenge, unauthenticatedChallenge } from "./bearer-challenge.js";
import type { EnvoySettings } from "./envoy-settings.js";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOptionSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { CheckResponseSchema, type CheckResponse, type OkHttpResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";

type HeaderOption = MessageInitShape<typeof HeaderValueOptionSchema>;

const GRPC_OK = 0;

/** Envoy's answer for a decision: allow with identity headers, or a 401/403 Envoy sends to the client. */
export function checkResponseOf(decision: Decision, settings: EnvoySettings): CheckResponse {
  const dynamicMetadata = accessLogMetadata(decision);
  if (decision.allowed) {
    return create(CheckResponseSchema, {
      status: { code: GRPC_OK },
      httpResponse: { case: "okResponse", value: okResponse(decision.identity, settings) },
      dynamicMetadata,
    });
  }
  const unauthenticated = decision.denial === "unauthenticated";
  const challenge = unauthenticated
    ? unauthenticatedChallenge(settings, decision.reason)
    : decision.reason === "insufficient_scope" && decision.requiredScope !== undefined && !settings.omitForbiddenChallenge
      ? insufficientScopeChallenge(settings, decision.requiredScope)
      : undefined;
  return create(CheckResponseSchema, {
    status: { code: unauthenticated ? Code.Unauthenticated : Code.PermissionDenied, message: decision.reason },
    httpResponse: {
      case: "deniedResponse",
      value: {
        status: { code: unauthenticated ? StatusCode.Unauthorized : StatusCode.Forbidden },
        headers: [
          overwrite("content-type", "application/json"),
          overwrite("cache-control", "no-store"),
          ...(challenge === undefined ? [] : [overwrite("www-authenticate", challenge)]),
        ],
        body: JSON.stringify({ error: decision.reason }),
      },
    },
    dynamicMetadata,
  });
}

/**
 * Identity headers for the upstream. Envoy applies `headers` before
 * `headers_to_remove`, so a header Portcullis sets must not also be removed:
 * set ones overwrite whatever the client sent, and the names without a value
 * for this request (no identity on a public route, no libraries) are
 * removed, so a client can never pass its own.
 */
function okResponse(identity: Identity | undefined, settings: EnvoySettings): MessageInitShape<typeof OkHttpResponseSchema> {
  const names = settings.identityHeaders;
  // Values come from credentials: encoded, never passed raw (README, "What Envoy gets back").
  const values: [string, string][] = [
    [names.subject, identityHeaderValue(identity?.subject ?? "")],
    [names.tokenId, identityHeaderValue(identity?.tokenId ?? "")],
    [names.scopes, identityHeaderList(identity?.scopes ?? [])],
    [names.libraries, identityHeaderList(identity?.libraries ?? [])],
    [names.credentialType, identity?.credentialType ?? ""],
    [names.issuer, identityHeaderValue(identity?.issuerAlias ?? "")],
  ];
  return {
    headers: values.filter(([, value]) => value !== "").map(([name, value]) => overwrite(name, value)),
    headersToRemove: [
      ...values.filter(([, value]) => value === "").map(([name]) => name),
      ...(settings.removeAuthorization ? ["authorization"] : []),
    ],
  };
}

function overwrite(key: string, value: string): HeaderOption {
  // Without `append`, older Envoys (which know no append_action) overwrite too.
  return { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}

/** Set by Envoy under `envoy.filters.http.ext_authz` for access logs; never a secret. */
function accessLogMetadata(decision: Decision): JsonObject {
  const metadata: JsonObject = { decision: decision.allowed ? "allow" : "deny", reason: decision.reason };
  if (!decision.allowed) metadata.denial = decision.denial;
  if (decision.requiredScope !== undefined) metadata.required_scope = decision.requiredScope;
  const identity = decision.identity;
  if (identity !== undefined) {
    metadata.subject = identity.subject;
    metadata.token_id = identity.tokenId;
    metadata.credential_type = identity.credentialType;
    metadata.name = identity.name;
    if (identity.issuerAlias !== undefined) metadata.issuer = identity.issuerAlias;
  }
  return metadata;
}
