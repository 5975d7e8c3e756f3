import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvoyClient, headerNamed, metadataOf, upstreamHeaders, type EnvoyClient } from "../support/envoy-client.js";
import { RESOURCE_METADATA_URL, startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";

describe("Envoy ext_authz Check, called by a grpc-js client built from the upstream Envoy protos", () => {
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

  it("allows a token with the scope and hands the verified identity to the upstream in place of spoofed headers", async () => {
    const incoming = {
      authorization: `Bearer ${fixture.tokens.reader}`,
      "x-auth-subject": "token:someone-else",
      "x-auth-scopes": "*",
      "x-auth-libraries": "every-library",
      "x-auth-issuer": "spoofed-idp",
      accept: "application/json",
    };
    const response = await envoy.check({ method: "GET", path: "/api/kafka/topics?limit=5", headers: incoming });

    expect(response.status?.code).toBe(0);
    expect(response.http_response).toBe("ok_response");
    const ok = response.ok_response!;
    const subject = headerNamed(ok.headers, "x-auth-subject")!;
    expect(subject.header.value).toMatch(/^token:/);
    expect(subject.append_action).toBe("OVERWRITE_IF_EXISTS_OR_ADD");
    expect(headerNamed(ok.headers, "x-auth-scopes")?.header.value).toBe("kafka:read,reports:read");
    expect(headerNamed(ok.headers, "x-auth-libraries")?.header.value).toBe("lib-a,lib-b");
    expect(headerNamed(ok.headers, "x-auth-token-id")?.header.value).toBe(subject.header.value.slice("token:".length));
    expect(ok.headers_to_remove).toContain("authorization");

    const upstream = upstreamHeaders(incoming, ok);
    expect(upstream["x-auth-subject"]).toBe(subject.header.value);
    expect(upstream["x-auth-scopes"]).toBe("kafka:read,reports:read");
    expect(upstream["x-auth-libraries"]).toBe("lib-a,lib-b");
    expect(upstream["x-auth-credential-type"]).toBe("opaque");
    expect(upstream["x-auth-issuer"]).toBeUndefined();
    expect(upstream.authorization).toBeUndefined();
    expect(upstream.accept).toBe("application/json");

    expect(metadataOf(response)).toMatchObject({
      decision: "allow",
      reason: "ok",
      subject: subject.header.value,
      credential_type: "opaque",
      name: "reader",
      required_scope: "kafka:read",
    });
    expect(JSON.stringify(response)).not.toContain(fixture.tokens.reader);
  });

  it("removes identity headers it has no value for, so a client cannot supply them", async () => {
    const incoming = { authorization: `Bearer ${fixture.tokens.writer}`, "x-auth-libraries": "lib-secret" };
    const response = await envoy.check({ method: "POST", path: "/api/kafka/topics", headers: incoming });
    expect(response.http_response).toBe("ok_response");
    expect(response.ok_response!.headers_to_remove).toContain("x-auth-libraries");
    expect(upstreamHeaders(incoming, response.ok_response!)["x-auth-libraries"]).toBeUndefined();
  });

  it("answers a request without a token with 401 and a Bearer challenge naming the metadata URL", async () => {
    const response = await envoy.check({ method: "GET", path: "/api/kafka/topics" });
    expect(response.status?.code).toBe(16);
    expect(response.http_response).toBe("denied_response");
    const denied = response.denied_response!;
    expect(denied.status?.code).toBe("Unauthorized");
    expect(headerNamed(denied.headers, "www-authenticate")?.header.value).toBe(
      `Bearer realm="example", resource_metadata="${RESOURCE_METADATA_URL}"`,
    );
    expect(headerNamed(denied.headers, "content-type")?.header.value).toBe("application/json");
    expect(JSON.parse(denied.body)).toEqual({ error: "missing_credential" });
  });

  it("answers a bad token with 401 invalid_token", async () => {
    const response = await envoy.check({ path: "/api/kafka/topics", headers: { authorization: `Bearer ${fixture.tokens.unknown}` } });
    const denied = response.denied_response!;
    expect([response.status?.code, denied.status?.code]).toEqual([16, "Unauthorized"]);
    expect(headerNamed(denied.headers, "www-authenticate")?.header.value).toBe(
      `Bearer realm="example", error="invalid_token", resource_metadata="${RESOURCE_METADATA_URL}"`,
    );
    expect(JSON.parse(denied.body)).toEqual({ error: "unknown_token" });
  });

  it("answers a token without the required scope with 403 insufficient_scope naming the scope", async () => {
    const response = await envoy.check({
      method: "DELETE",
      path: "/api/kafka/topics/orders",
      headers: { authorization: `Bearer ${fixture.tokens.reader}` },
    });
    const denied = response.denied_response!;
    expect([response.status?.code, denied.status?.code]).toEqual([7, "Forbidden"]);
    expect(headerNamed(denied.headers, "www-authenticate")?.header.value).toBe(
      `Bearer realm="example", error="insufficient_scope", scope="kafka:write", resource_metadata="${RESOURCE_METADATA_URL}"`,
    );
    expect(JSON.parse(denied.body)).toEqual({ error: "insufficient_scope" });
    expect(metadataOf(response)).toMatchObject({ decision: "deny", denial: "forbidden", name: "reader" });
  });

  it("allows a public route without a token and strips every identity header the client sent", async () => {
    const incoming = {
      "x-auth-subject": "token:admin",
      "x-auth-token-id": "admin",
      "x-auth-credential-type": "opaque",
      "x-auth-issuer": "idp",
    };
    const response = await envoy.check({ method: "GET", path: "/health", headers: incoming });
    expect(response.status?.code).toBe(0);
    const ok = response.ok_response!;
    expect(ok.headers).toEqual([]);
    expect(ok.headers_to_remove).toEqual(
      expect.arrayContaining(["x-auth-subject", "x-auth-token-id", "x-auth-scopes", "x-auth-libraries", "x-auth-credential-type", "x-auth-issuer"]),
    );
    expect(upstreamHeaders(incoming, ok)).toEqual({});
    expect(metadataOf(response)).toMatchObject({ decision: "allow", reason: "public_resource" });
  });

  it("lets per-route context_extensions ask for a stricter scope, which the token lacks: 403", async () => {
    const headers = { authorization: `Bearer ${fixture.tokens.reader}` };
    const plain = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers });
    expect(plain.status?.code).toBe(0);
    const stricter = await envoy.check({
      method: "GET",
      path: "/api/kafka/topics",
      headers,
      contextExtensions: { required_scope: "kafka:admin" },
    });
    expect(stricter.status?.code).toBe(7);
    expect(headerNamed(stricter.denied_response!.headers, "www-authenticate")?.header.value).toContain('scope="kafka:admin"');
  });

  it("lets context_extensions choose a policy rule by name, and denies an unknown rule name", async () => {
    const headers = { authorization: `Bearer ${fixture.tokens.writer}` };
    const byRule = await envoy.check({ method: "GET", path: "/anything", headers, contextExtensions: { rule: "kafka-write" } });
    expect(byRule.status?.code).toBe(0);
    const unknown = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers, contextExtensions: { rule: "no-such-rule" } });
    expect([unknown.status?.code, JSON.parse(unknown.denied_response!.body)]).toEqual([7, { error: "unknown_rule" }]);
  });

  it("matches host rules on the host Envoy reports", async () => {
    const headers = { authorization: `Bearer ${fixture.tokens.writer}` };
    const reports = await envoy.check({ method: "GET", path: "/q3", host: "reports.example.com:443", headers });
    expect(JSON.parse(reports.denied_response!.body)).toEqual({ error: "insufficient_scope" });
    const reader = await envoy.check({
      method: "GET",
      path: "/q3",
      host: "reports.example.com",
      headers: { authorization: `Bearer ${fixture.tokens.reader}` },
    });
    expect(reader.status?.code).toBe(0);
  });

  it("reads the credential from header_map when Envoy sends raw headers", async () => {
    const response = await envoy.checkRaw({
      attributes: {
        request: {
          http: {
            method: "GET",
            path: "/api/kafka/topics",
            host: "api.example.com",
            header_map: { headers: [{ key: "authorization", raw_value: Buffer.from(`Bearer ${fixture.tokens.reader}`) }] },
          },
        },
      },
    });
    expect(response.status?.code).toBe(0);
  });

  it("denies a path that could mean something else upstream instead of normalizing it", async () => {
    const response = await envoy.check({
      method: "GET",
      path: "/health/../admin/users",
      headers: { authorization: `Bearer ${fixture.tokens.reader}` },
    });
    expect([response.status?.code, JSON.parse(response.denied_response!.body)]).toEqual([7, { error: "bad_resource" }]);
  });

  it("denies an empty CheckRequest rather than guessing", async () => {
    const response = await envoy.checkRaw({});
    expect(response.status?.code).not.toBe(0);
    expect(response.http_response).toBe("denied_response");
  });

  it("takes a CheckRequest with headers as large as Envoy lets through, and refuses one over 1 MiB", async () => {
    const headers = { authorization: `Bearer ${fixture.tokens.reader}`, cookie: "c".repeat(200_000) };
    expect((await envoy.check({ path: "/api/kafka/topics", headers })).status?.code).toBe(0);
    const error = await envoy
      .check({ path: "/api/kafka/topics", headers: { ...headers, cookie: "c".repeat(1_100_000) } })
      .catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("never writes a token secret to its output", () => {
    const output = fixture.server.output();
    for (const secret of Object.values(fixture.tokens)) expect(output).not.toContain(secret);
  });
});
