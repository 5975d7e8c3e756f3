import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizationService, CredentialType, Decision, Denial, type AuthorizeResponse } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import {
  createEnvoyClient,
  headerNamed,
  metadataOf,
  upstreamHeaders,
  type EnvoyClient,
  type HttpAttributes,
  type WireCheckResponse,
} from "../support/envoy-client.js";
import { startEnvoyFixture, type EnvoyFixture, type TestTokens } from "../support/envoy-fixture.js";
import {
  JWT_ISSUER_ALIAS,
  JWT_SUBJECT,
  JwtIssuers,
  REQUEST_ISSUER,
  REQUEST_SUBJECT,
  TEAM_LIBRARIES,
  type JwtTestTokens,
} from "../support/jwt-fixture.js";

type Tokens = TestTokens & JwtTestTokens;

/** How a case presents its credential: a test token by role, a literal Authorization value, or nothing. */
type Credential = keyof Tokens | { raw: string } | null;

interface ParityCase {
  credential: Credential;
  /** "GET /path" or "tool:<name>". */
  resource: string;
  requiredScope?: string;
  /** "allow:<reason>", "unauthenticated:<reason>" or "forbidden:<reason>". */
  expected: string;
}

const raw = (value: string) => ({ raw: value });

// One line per case.
const CASES: ParityCase[] = [
  { credential: "reader", resource: "GET /api/kafka/topics", expected: "allow:ok" },
  { credential: "reader", resource: "HEAD /api/kafka/topics", expected: "allow:ok" },
  { credential: "reader", resource: "GET /api/kafka", expected: "allow:ok" },
  { credential: "reader", resource: "GET /api/kafka/topics?next=../../admin", expected: "allow:ok" },
  { credential: "reader", resource: "POST /api/kafka/topics", expected: "forbidden:insufficient_scope" },
  { credential: "writer", resource: "POST /api/kafka/topics", expected: "allow:ok" },
  { credential: "writer", resource: "DELETE /api/kafka/topics/orders", expected: "allow:ok" },
  { credential: "writer", resource: "PATCH /api/kafka/topics", expected: "forbidden:no_policy" },
  { credential: "reader", resource: "GET /api/kafkax", expected: "forbidden:no_policy" },
  { credential: "root", resource: "GET /admin/users", expected: "allow:ok" },
  { credential: "reader", resource: "GET /admin/users", expected: "forbidden:insufficient_scope" },
  { credential: null, resource: "GET /health", expected: "allow:public_resource" },
  { credential: "reader", resource: "GET /health", expected: "allow:public_resource" },
  { credential: "unknown", resource: "GET /health", expected: "allow:public_resource" },
  { credential: null, resource: "GET /health/deep", expected: "forbidden:no_policy" },
  { credential: null, resource: "GET /health", requiredScope: "kafka:read", expected: "unauthenticated:missing_credential" },
  { credential: null, resource: "GET /api/kafka/topics", expected: "unauthenticated:missing_credential" },
  { credential: "revoked", resource: "GET /api/kafka/topics", expected: "unauthenticated:token_revoked" },
  { credential: "expired", resource: "GET /api/kafka/topics", expected: "unauthenticated:token_expired" },
  { credential: "unknown", resource: "GET /api/kafka/topics", expected: "unauthenticated:unknown_token" },
  { credential: raw("Basic dXNlcjpwYXNz"), resource: "GET /api/kafka/topics", expected: "unauthenticated:unsupported_scheme" },
  { credential: raw("Bearer two words"), resource: "GET /api/kafka/topics", expected: "unauthenticated:malformed_credential" },
  { credential: raw(`Bearer ${"x".repeat(9000)}`), resource: "GET /api/kafka/topics", expected: "unauthenticated:credential_too_long" },
  { credential: "reader", resource: "GET /api/kafka/topics", requiredScope: "kafka:admin", expected: "forbidden:insufficient_scope" },
  { credential: "reader", resource: "GET /api/kafka/topics", requiredScope: "", expected: "forbidden:no_required_scope" },
  { credential: "writer", resource: "GET /not/in/policy", requiredScope: "kafka:write", expected: "allow:ok" },
  { credential: "root", resource: "GET /not/in/policy", expected: "forbidden:no_policy" },
  { credential: "toolUser", resource: "tool:search", expected: "allow:ok" },
  { credential: "toolUser", resource: "tool:lookup", expected: "allow:ok" },
  { credential: "toolUser", resource: "tool:delete_everything", expected: "forbidden:tool_not_allowed" },
  { credential: "reader", resource: "tool:search", expected: "forbidden:insufficient_scope" },
  { credential: "root", resource: "tool:anything", expected: "allow:ok" },
  { credential: null, resource: "tool:search", expected: "unauthenticated:missing_credential" },
  { credential: "reader", resource: "GET /api/kafka/../../admin", expected: "forbidden:bad_resource" },
  { credential: "reader", resource: "GET /api/kafka//topics", expected: "forbidden:bad_resource" },
  { credential: "reader", resource: "GET /api/kafka/%2e%2e/admin", expected: "forbidden:bad_resource" },
  { credential: "reader", resource: "GET /api/kafka/a%2Fb", expected: "forbidden:bad_resource" },
  { credential: "reader", resource: "GET api/kafka/topics", expected: "forbidden:bad_resource" },
  { credential: "jwtRs256", resource: "GET /api/kafka/topics", expected: "allow:ok" },
  { credential: "jwtRs256", resource: "POST /api/kafka/topics", expected: "forbidden:insufficient_scope" },
  { credential: "jwtRs256", resource: "GET /api/kafka/topics", requiredScope: "kafka:admin", expected: "forbidden:insufficient_scope" },
  { credential: "jwtRs256", resource: "GET /api/kafka/topics", requiredScope: "", expected: "forbidden:no_required_scope" },
  { credential: "jwtRs256", resource: "tool:search", expected: "forbidden:insufficient_scope" },
  { credential: "jwtEs256Scp", resource: "GET /api/kafka/topics", expected: "allow:ok" },
  { credential: "jwtEs256Scp", resource: "POST /api/kafka/topics", expected: "allow:ok" },
  { credential: "jwtScpString", resource: "DELETE /api/kafka/topics/orders", expected: "allow:ok" },
  { credential: "jwtScpString", resource: "GET /admin/users", expected: "forbidden:insufficient_scope" },
  { credential: "jwtTools", resource: "tool:anything", expected: "allow:ok" },
  { credential: "jwtTools", resource: "tool:search", expected: "forbidden:insufficient_scope" },
  { credential: "jwtExpired", resource: "GET /api/kafka/topics", expected: "unauthenticated:token_expired" },
  { credential: "jwtExpired", resource: "GET /health", expected: "allow:public_resource" },
  { credential: "jwtWrongAudience", resource: "GET /api/kafka/topics", expected: "unauthenticated:wrong_audience" },
  { credential: "jwtUnknownIssuer", resource: "GET /api/kafka/topics", expected: "unauthenticated:unknown_issuer" },
  { credential: "jwtUnknownKid", resource: "GET /api/kafka/topics", expected: "unauthenticated:unknown_key" },
  { credential: "jwtAlgNone", resource: "GET /api/kafka/topics", expected: "unauthenticated:alg_none" },
  { credential: "jwtMalformed", resource: "GET /api/kafka/topics", expected: "unauthenticated:malformed_jwt" },
  { credential: "jwtBadSignature", resource: "GET /api/kafka/topics", expected: "unauthenticated:bad_signature" },
  { credential: "jwtBadSignature", resource: "tool:search", expected: "unauthenticated:bad_signature" },
  { credential: "team", resource: "GET /api/kafka/topics", expected: "allow:ok" },
  { credential: "team", resource: "POST /api/kafka/topics", expected: "forbidden:insufficient_scope" },
  { credential: "teamRotated", resource: "GET /api/kafka/topics", expected: "unauthenticated:token_rotated" },
  { credential: "request", resource: "tool:search", expected: "allow:ok" },
  { credential: "request", resource: "tool:lookup", expected: "allow:ok" },
  { credential: "request", resource: "GET /api/kafka/topics", expected: "forbidden:insufficient_scope" },
];

function authorizationOf(credential: Credential, tokens: Tokens): string {
  if (credential === null) return "";
  return typeof credential === "string" ? `Bearer ${tokens[credential]}` : credential.raw;
}

function outcomeOfAuthorize(response: AuthorizeResponse): string {
  if (response.decision === Decision.ALLOW) return `allow:${response.reason}`;
  return `${response.denial === Denial.UNAUTHENTICATED ? "unauthenticated" : "forbidden"}:${response.reason}`;
}

function outcomeOfCheck(response: WireCheckResponse): string {
  const reason = metadataOf(response).reason;
  if (response.status?.code === 0) return `allow:${reason}`;
  const denied = response.denied_response!;
  expect(JSON.parse(denied.body)).toEqual({ error: reason });
  const unauthenticated = response.status?.code === 16;
  // The HTTP status Envoy sends the client agrees with the gRPC status: 401 or 403.
  expect(denied.status?.code).toBe(unauthenticated ? "Unauthorized" : "Forbidden");
  return `${unauthenticated ? "unauthenticated" : "forbidden"}:${reason}`;
}

/** The principal an allowed request hands on, as Check's identity headers carry it. */
function principalOfCheck(response: WireCheckResponse): Record<string, string> {
  const headers = response.ok_response?.headers ?? [];
  const value = (name: string) => headerNamed(headers, name)?.header.value ?? "";
  return {
    subject: value("x-auth-subject"),
    tokenId: value("x-auth-token-id"),
    credentialType: value("x-auth-credential-type"),
    issuer: value("x-auth-issuer"),
    scopes: value("x-auth-scopes"),
    libraries: value("x-auth-libraries"),
  };
}

const CREDENTIAL_TYPE_NAMES: Record<CredentialType, string> = {
  [CredentialType.UNSPECIFIED]: "",
  [CredentialType.OPAQUE]: "opaque",
  [CredentialType.JWT]: "jwt",
  [CredentialType.TEAM_TOKEN]: "team_token",
  [CredentialType.REQUEST_TOKEN]: "request_token",
};

function principalOfAuthorize(response: AuthorizeResponse): Record<string, string> {
  return {
    subject: response.principal?.subject ?? "",
    tokenId: response.principal?.tokenId ?? "",
    credentialType: CREDENTIAL_TYPE_NAMES[response.principal?.credentialType ?? CredentialType.UNSPECIFIED],
    issuer: response.principal?.issuer ?? "",
    scopes: response.scopes.join(","),
    libraries: response.libraries.join(","),
  };
}

/** What Envoy sends for a resource: method and path, or a route whose context extension names the tool. */
function attributesOf(resource: string, requiredScope: string | undefined, headers: Record<string, string>): HttpAttributes {
  const tool = resource.startsWith("tool:") ? resource.slice("tool:".length) : undefined;
  const [method, ...target] = resource.split(" ");
  const contextExtensions: Record<string, string> = {};
  if (requiredScope !== undefined) contextExtensions.required_scope = requiredScope;
  if (tool !== undefined) contextExtensions.tool = tool;
  return {
    method: tool === undefined ? method : "POST",
    path: tool === undefined ? target.join(" ") : "/mcp",
    headers,
    contextExtensions,
  };
}

describe("Check and Authorize decide alike", () => {
  const issuers = new JwtIssuers();
  let fixture: EnvoyFixture;
  let tokens: Tokens;
  let teamId: string;
  let envoy: EnvoyClient;
  beforeAll(async () => {
    await issuers.start();
    fixture = await startEnvoyFixture({ config: { jwt: issuers.config() } });
    const jwt = await issuers.tokens(fixture.server.url, fixture.tokens.root);
    tokens = { ...fixture.tokens, ...jwt.tokens };
    teamId = jwt.teamId;
    envoy = createEnvoyClient(fixture.server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await fixture?.server.stop();
    await issuers.stop();
  });

  it("has a table of at least 30 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)("$credential on $resource (scope $requiredScope) gives $expected both ways", async (testCase) => {
    const authorization = authorizationOf(testCase.credential, tokens);
    const headers: Record<string, string> = authorization === "" ? {} : { authorization };
    const check = await envoy.check(attributesOf(testCase.resource, testCase.requiredScope, headers));
    // The same host Check sends as :authority (test/support/envoy-client.ts), so host rules decide alike.
    const request = { authorization, resource: testCase.resource, requiredScope: testCase.requiredScope, host: "api.example.com" };
    // gRPC over HTTP/2 takes the lean path; the Connect protocol over HTTP/1.1 goes through connect-node.
    const lean = await createClients(fixture.server.url).authorization.authorize(request);
    const connect = await createClient(
      AuthorizationService,
      createConnectTransport({ baseUrl: fixture.server.url, httpVersion: "1.1" }),
    ).authorize(request);

    expect(outcomeOfCheck(check)).toBe(testCase.expected);
    expect(outcomeOfAuthorize(lean)).toBe(testCase.expected);
    expect(outcomeOfAuthorize(connect)).toBe(testCase.expected);
    expect(connect).toEqual(lean);
    if (testCase.expected.startsWith("allow:")) expect(principalOfCheck(check)).toEqual(principalOfAuthorize(lean));
  });

  it.each([
    { credential: "jwtRs256", resource: "GET /api/kafka/topics", type: "jwt", scopes: "kafka:read,reports:read", libraries: "lib-a" },
    { credential: "team", resource: "GET /api/kafka/topics", type: "team_token", scopes: "kafka:read", libraries: TEAM_LIBRARIES.join(",") },
    { credential: "request", resource: "tool:search", type: "request_token", scopes: "tools:search,tools:use", libraries: "lib-r" },
  ] as const)("hands the upstream the subject, scopes and libraries of a $type principal in place of spoofed ones", async (principal) => {
    const token = tokens[principal.credential];
    const jti = decodeJwt(token).jti!;
    const issuer = { jwt: JWT_ISSUER_ALIAS, team_token: undefined, request_token: REQUEST_ISSUER }[principal.type];
    const subject = {
      jwt: `jwt:${JWT_ISSUER_ALIAS}:${JWT_SUBJECT}`,
      team_token: `team:${teamId}`,
      request_token: `jwt:${REQUEST_ISSUER}:${REQUEST_SUBJECT}`,
    }[principal.type];
    const incoming = {
      authorization: `Bearer ${token}`,
      "x-auth-subject": "token:someone-else",
      "x-auth-token-id": "someone-elses-token",
      "x-auth-scopes": "*",
      "x-auth-libraries": "every-library",
      "x-auth-credential-type": "opaque",
      "x-auth-issuer": "someone-trusted",
    };
    const response = await envoy.check(attributesOf(principal.resource, undefined, incoming));

    expect(response.status?.code).toBe(0);
    const upstream = upstreamHeaders(incoming, response.ok_response!);
    expect(upstream["x-auth-subject"]).toBe(subject);
    expect(upstream["x-auth-token-id"]).toBe(issuer === undefined ? jti : `jwt:${issuer}:${jti}`);
    expect(upstream["x-auth-credential-type"]).toBe(principal.type);
    expect(upstream["x-auth-issuer"]).toBe(issuer);
    expect(upstream["x-auth-scopes"]).toBe(principal.scopes);
    expect(upstream["x-auth-libraries"]).toBe(principal.libraries);
    expect(upstream.authorization).toBeUndefined();
    expect(metadataOf(response)).toMatchObject({ decision: "allow", reason: "ok", subject, credential_type: principal.type });
    expect(JSON.stringify(response)).not.toContain(token);
  });
});
