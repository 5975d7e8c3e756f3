import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialType, Decision, Denial } from "../../gen/portcullis/v1/authorization_pb.js";
import type { MintTokenRequestSchema } from "../../gen/portcullis/v1/token_admin_pb.js";
import { BACKENDS, EXAMPLE_CONFIG, startOnBackend } from "../support/backends.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import type { PortcullisProcess } from "../support/portcullis-process.js";

describe.each(BACKENDS)("Authorize through a Connect client over HTTP/2 on the %s store", (backend) => {
  let server: PortcullisProcess;
  let clients: Clients;
  let root: string;

  beforeAll(async () => {
    server = await startOnBackend(backend, { env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    clients = createClients(server.url);
    root = await server.rootToken();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const mint = (request: MessageInitShape<typeof MintTokenRequestSchema>) => clients.admin.mintToken(request, bearer(root));
  const authorize = (authorization: string, resource: string, requiredScope?: string) =>
    clients.authorization.authorize({ authorization, resource, requiredScope });
  const outcome = (response: { decision: Decision; denial: Denial; reason: string }) => [
    response.decision,
    response.denial,
    response.reason,
  ];

  it("allows a minted token its scope and names its principal, scopes and libraries", async () => {
    const minted = await mint({ scopes: ["kafka:read"], name: "reader", allowedLibraries: ["lib-a", "lib-b"] });
    const response = await authorize(`Bearer ${minted.token}`, "GET /api/kafka/topics");
    expect(outcome(response)).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(response.principal).toMatchObject({
      subject: `token:${minted.record!.tokenId}`,
      tokenId: minted.record!.tokenId,
      credentialType: CredentialType.OPAQUE,
      name: "reader",
    });
    expect(response.scopes).toEqual(["kafka:read"]);
    expect(response.libraries).toEqual(["lib-a", "lib-b"]);
    expect(response.requiredScope).toBe("kafka:read");
  });

  it("accepts a bare token and a lower-case scheme as well as a Bearer header", async () => {
    const minted = await mint({ scopes: ["kafka:read"] });
    for (const authorization of [minted.token, `bearer ${minted.token}`, `  Bearer   ${minted.token}  `]) {
      expect(outcome(await authorize(authorization, "GET /api/kafka/topics"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    }
  });

  it("matches a rule that names a host only when the request names that host, and refuses a request without one", async () => {
    const minted = await mint({ scopes: ["libraries:admin"] });
    const decide = (host: string) =>
      clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "POST /api/libraries", host });
    expect(outcome(await decide("Admin.Example.com:443"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await decide("admin.example.com."))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await decide("api.example.com"))).toEqual([Decision.DENY, Denial.FORBIDDEN, "no_policy"]);
    // Without a host the host rule could apply: refused rather than left to a later, weaker rule.
    expect(outcome(await decide(""))).toEqual([Decision.DENY, Denial.FORBIDDEN, "host_required"]);
  });

  it("denies a valid token without the rule's scope as forbidden with insufficient_scope", async () => {
    const minted = await mint({ scopes: ["kafka:read"] });
    const response = await authorize(`Bearer ${minted.token}`, "POST /api/kafka/topics");
    expect(outcome(response)).toEqual([Decision.DENY, Denial.FORBIDDEN, "insufficient_scope"]);
    expect(response.requiredScope).toBe("kafka:write");
    expect(response.principal?.tokenId).toBe(minted.record!.tokenId);
    expect(response.libraries).toEqual([]);
  });

  it("lets the root token pass any rule that names a scope", async () => {
    for (const resource of ["POST /api/kafka/topics", "DELETE /api/kafka", "tool:search", "tool:anything"]) {
      expect(outcome(await authorize(`Bearer ${root}`, resource))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    }
  });

  it("allows public resources without a credential, and ignores a bad one there", async () => {
    for (const resource of ["GET /health", "tool:get_health"]) {
      for (const authorization of ["", "Bearer pcl_not-a-real-token"]) {
        const response = await authorize(authorization, resource);
        expect(outcome(response)).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "public_resource"]);
        expect(response.principal).toBeUndefined();
      }
    }
  });

  it("denies resources no rule covers with no_policy, matching prefixes on whole segments only", async () => {
    for (const resource of ["GET /api/kafkax", "GET /healthz", "POST /health", "GET /api/libraries"]) {
      expect(outcome(await authorize(`Bearer ${root}`, resource))).toEqual([Decision.DENY, Denial.FORBIDDEN, "no_policy"]);
    }
  });

  it("denies resources that could be read two ways with bad_resource", async () => {
    for (const resource of ["GET /api/kafka/../admin", "GET /api/kafka/%2e%2e/admin", "GET api/kafka", "nonsense"]) {
      expect(outcome(await authorize(`Bearer ${root}`, resource))).toEqual([Decision.DENY, Denial.FORBIDDEN, "bad_resource"]);
    }
  });

  it.each([
    ["no credential", "", "missing_credential"],
    ["an empty Bearer header", "Bearer ", "missing_credential"],
    ["the bare word Bearer", "Bearer", "missing_credential"],
    ["an unknown token", "Bearer pcl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown_token"],
    ["another scheme", "Basic dXNlcjpwYXNz", "unsupported_scheme"],
    ["a token with characters outside the token alphabet", "Bearer pcl_ab\"cd", "malformed_credential"],
    ["an Authorization value over 8 KiB", `Bearer pcl_${"a".repeat(8200)}`, "credential_too_long"],
  ])("denies %s as unauthenticated", async (_case, authorization, reason) => {
    expect(outcome(await authorize(authorization, "GET /api/kafka/topics"))).toEqual([
      Decision.DENY,
      Denial.UNAUTHENTICATED,
      reason,
    ]);
  });

  it("denies a revoked token as unauthenticated with token_revoked", async () => {
    const minted = await mint({ scopes: ["kafka:read"] });
    await clients.admin.revokeToken({ tokenId: minted.record!.tokenId }, bearer(root));
    const response = await authorize(`Bearer ${minted.token}`, "GET /api/kafka/topics");
    expect(outcome(response)).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "token_revoked"]);
    expect(response.principal).toBeUndefined();
  });

  it("denies a token past its ttl as unauthenticated with token_expired", async () => {
    const minted = await mint({ scopes: ["kafka:read"], ttl: { seconds: 1n } });
    const record = minted.record!;
    expect(Number(record.expiresAt!.seconds - record.createdAt!.seconds)).toBe(1);
    const expiresAtMs = Number(record.expiresAt!.seconds) * 1000 + record.expiresAt!.nanos / 1e6;
    await sleep(Math.max(0, expiresAtMs - Date.now()) + 50);
    const response = await authorize(`Bearer ${minted.token}`, "GET /api/kafka/topics");
    expect(outcome(response)).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "token_expired"]);
    const { record: later } = await clients.admin.getToken({ tokenId: record.tokenId }, bearer(root));
    expect(later?.active).toBe(false);
  });

  it("denies an empty required scope with no_required_scope, even for the root token", async () => {
    const minted = await mint({ scopes: ["kafka:read"] });
    for (const token of [root, minted.token]) {
      const response = await authorize(`Bearer ${token}`, "GET /api/kafka/topics", "");
      expect(outcome(response)).toEqual([Decision.DENY, Denial.FORBIDDEN, "no_required_scope"]);
    }
  });

  it("lets an explicit required scope replace the policy's, and never makes a public resource open", async () => {
    const minted = await mint({ scopes: ["kafka:read", "reports:read"] });
    const token = `Bearer ${minted.token}`;
    expect(outcome(await authorize(token, "GET /api/kafka/topics", "kafka:write"))).toEqual([
      Decision.DENY,
      Denial.FORBIDDEN,
      "insufficient_scope",
    ]);
    expect(outcome(await authorize(token, "GET /reports/2024", "reports:read"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await authorize("", "GET /health", "reports:read"))).toEqual([
      Decision.DENY,
      Denial.UNAUTHENTICATED,
      "missing_credential",
    ]);
  });

  it("confines a token with allowed_tools to those tools", async () => {
    const confined = await mint({ scopes: ["tools:search", "tools:use"], allowedTools: ["search", "summarize"] });
    const free = await mint({ scopes: ["tools:use"] });
    expect(outcome(await authorize(`Bearer ${confined.token}`, "tool:search"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await authorize(`Bearer ${confined.token}`, "tool:summarize"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await authorize(`Bearer ${confined.token}`, "tool:delete_all"))).toEqual([
      Decision.DENY,
      Denial.FORBIDDEN,
      "tool_not_allowed",
    ]);
    expect(outcome(await authorize(`Bearer ${free.token}`, "tool:delete_all"))).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(outcome(await authorize(`Bearer ${free.token}`, "tool:search"))).toEqual([
      Decision.DENY,
      Denial.FORBIDDEN,
      "insufficient_scope",
    ]);
  });

  it("resolves the libraries a token may read, and nothing for a token without any", async () => {
    const reader = await mint({ scopes: ["kafka:read"], allowedLibraries: ["lib-1", "lib-2"] });
    const bare = await mint({ scopes: ["kafka:read"] });
    expect((await clients.authorization.resolveLibraries({ authorization: `Bearer ${reader.token}` })).libraries).toEqual([
      "lib-1",
      "lib-2",
    ]);
    expect((await clients.authorization.resolveLibraries({ authorization: bare.token })).libraries).toEqual([]);
  });

  it("answers ResolveLibraries for a missing, unknown or revoked credential with Unauthenticated", async () => {
    const revoked = await mint({ scopes: ["kafka:read"], allowedLibraries: ["lib-1"] });
    await clients.admin.revokeToken({ tokenId: revoked.record!.tokenId }, bearer(root));
    for (const [authorization, reason] of [
      ["", "missing_credential"],
      ["Bearer pcl_unknown-token-value", "unknown_token"],
      [`Bearer ${revoked.token}`, "token_revoked"],
    ] as const) {
      const error = await rejectionOf(clients.authorization.resolveLibraries({ authorization }));
      expect(error.code).toBe(Code.Unauthenticated);
      expect(error.rawMessage).toContain(reason);
    }
  });
});
