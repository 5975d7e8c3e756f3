import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizationService, Decision, Denial, type AuthorizeResponse } from "../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "./support/clients.js";
import { createEnvoyClient, metadataOf, type EnvoyClient, type WireCheckResponse } from "./support/envoy-client.js";
import { startEnvoyFixture, type EnvoyFixture, type TestTokens } from "./support/envoy-fixture.js";

/** How a case presents its credential: a test token by role, a literal Authorization value, or nothing. */
type Credential = keyof TestTokens | { raw: string } | null;

interface ParityCase {
  credential: Credential;
  /** "GET /path" or "tool:<name>". */
  resource: string;
  requiredScope?: string;
  /** "allow:<reason>", "unauthenticated:<reason>" or "forbidden:<reason>". */
  expected: string;
}

const raw = (value: string) => ({ raw: value });

// One line per case; JWT credentials join as further lines once that issue lands.
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
];

function authorizationOf(credential: Credential, tokens: TestTokens): string {
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
  expect(JSON.parse(response.denied_response!.body)).toEqual({ error: reason });
  return `${response.status?.code === 16 ? "unauthenticated" : "forbidden"}:${reason}`;
}

describe("Check and Authorize decide alike", () => {
  let fixture: EnvoyFixture;
  let envoy: EnvoyClient;
  beforeAll(async () => {
    fixture = await startEnvoyFixture();
    envoy = createEnvoyClient(fixture.server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await fixture?.server.stop();
  });

  it("has a table of at least 30 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)("$credential on $resource (scope $requiredScope) gives $expected both ways", async (testCase) => {
    const authorization = authorizationOf(testCase.credential, fixture.tokens);
    const tool = testCase.resource.startsWith("tool:") ? testCase.resource.slice("tool:".length) : undefined;
    const [method, ...target] = testCase.resource.split(" ");
    const contextExtensions: Record<string, string> = {};
    if (testCase.requiredScope !== undefined) contextExtensions.required_scope = testCase.requiredScope;
    if (tool !== undefined) contextExtensions.tool = tool;

    const check = await envoy.check({
      method: tool === undefined ? method : "POST",
      path: tool === undefined ? target.join(" ") : "/mcp",
      headers: authorization === "" ? {} : { authorization },
      contextExtensions,
    });
    const request = { authorization, resource: testCase.resource, requiredScope: testCase.requiredScope };
    // gRPC over HTTP/2 takes the lean path; the Connect protocol over HTTP/1.1 goes through connect-node.
    const lean = await createClients(fixture.server.url).authorization.authorize(request);
    const connect = await createClient(
      AuthorizationService,
      createConnectTransport({ baseUrl: fixture.server.url, httpVersion: "1.1" }),
    ).authorize(request);

    expect(outcomeOfCheck(check)).toBe(testCase.expected);
    expect(outcomeOfAuthorize(lean)).toBe(testCase.expected);
    expect(outcomeOfAuthorize(connect)).toBe(testCase.expected);
  });
});
