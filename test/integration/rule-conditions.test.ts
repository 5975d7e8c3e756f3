import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { checkRequest, createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { generateTestKey } from "../support/oidc-provider.js";
import { failedStart } from "../support/portcullis-process.js";

const POLICY = `policy:
  rules:
    - name: internal-health
      path: /health
      public: true
      when: request.host.endsWith('.internal')
    - name: office-reports
      path_prefix: /reports
      public: true
      when: "request.source_address.startsWith('192.0.2.') && request.headers['x-env'] == 'prod'"
    - name: orders
      path_prefix: /orders
      scope: orders:read
      when: "principal.credential_type == 'opaque' && !('x-block' in request.headers)"
    - name: admin-tools
      tool: "*"
      scope: tools:call
      when: "'admins' in claims.groups && principal.issuer == 'orchestrator'"
`;

const GRPC_OK = 0;

describe("rule conditions on a running server", () => {
  const writeConfig = configFileWriter();
  let server: InProcessPortcullis | undefined;
  let envoy: EnvoyClient | undefined;
  afterEach(async () => {
    envoy?.close();
    envoy = undefined;
    await server?.stop();
    server = undefined;
  });

  it("decide Authorize and Envoy Check alike on the request's host, headers and source address and on the principal", async () => {
    server = await startInProcess({ PORTCULLIS_CONFIG: writeConfig(POLICY), PORTCULLIS_WATCH_CONFIG: "false" });
    const root = await server.rootToken();
    const { authorization } = createClients(server.url);
    envoy = createEnvoyClient(server.url);

    expect(await authorization.authorize({ resource: "GET /health", host: "status.internal" })).toMatchObject({ decision: Decision.ALLOW, reason: "public_resource" });
    expect(await authorization.authorize({ resource: "GET /health", host: "status.example.com" })).toMatchObject({ decision: Decision.DENY, reason: "no_policy" });
    expect((await envoy.check({ path: "/health", host: "status.internal" })).status?.code).toBe(GRPC_OK);
    expect((await envoy.check({ path: "/health", host: "status.example.com" })).status?.code).not.toBe(GRPC_OK);

    // Envoy's source (192.0.2.10) and a header; a missing header is an error, never a match; Authorize has no source address.
    expect((await envoy.check({ path: "/reports/q1", headers: { "x-env": "prod" } })).status?.code).toBe(GRPC_OK);
    expect((await envoy.check({ path: "/reports/q1", headers: { "x-env": "dev" } })).status?.message).toBe("no_policy");
    expect((await envoy.check({ path: "/reports/q1" })).status?.message).toBe("condition_error");
    const elsewhere = checkRequest({ path: "/reports/q1", headers: { "x-env": "prod" } }) as { attributes: { source: unknown } };
    elsewhere.attributes.source = { address: { socket_address: { address: "198.51.100.7", port_value: 40000 } } };
    expect((await envoy.checkRaw(elsewhere)).status?.message).toBe("no_policy");
    expect(await authorization.authorize({ resource: "GET /reports/q1" })).toMatchObject({ decision: Decision.DENY, reason: "no_policy" });

    expect(await authorization.authorize({ authorization: `Bearer ${root}`, resource: "GET /orders/7" })).toMatchObject({ decision: Decision.ALLOW, reason: "ok" });
    expect((await envoy.check({ path: "/orders/7", headers: { authorization: `Bearer ${root}` } })).status?.code).toBe(GRPC_OK);
    expect((await envoy.check({ path: "/orders/7", headers: { authorization: `Bearer ${root}`, "x-block": "1" } })).status?.code).not.toBe(GRPC_OK);
    expect(await authorization.authorize({ resource: "GET /orders/7" })).toMatchObject({ decision: Decision.DENY, reason: "missing_credential" });
  });

  it("reads the claims of a verified per-request token, and denies condition_error for a token without the claim", async () => {
    const key = await generateTestKey("ES256", "orchestrator-1");
    const issuers = JSON.stringify([{ issuer: "orchestrator", alias: "orchestrator", jwk: key.publicJwk, audiences: "any", max_lifetime_s: 600 }]);
    server = await startInProcess({ PORTCULLIS_CONFIG: writeConfig(POLICY), PORTCULLIS_WATCH_CONFIG: "false", PORTCULLIS_JWT_REQUEST_ISSUERS: issuers });
    const token = (claims: Record<string, unknown>) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope: "tools:call", libs: [], ...claims })
        .setProtectedHeader({ alg: "ES256", kid: key.kid })
        .setIssuer("orchestrator")
        .setSubject("agent-7")
        .setJti(randomBytes(12).toString("base64url"))
        .setIssuedAt(now)
        .setExpirationTime(now + 120)
        .sign(key.privateKey);
    };
    const { authorization } = createClients(server.url);
    const call = async (claims: Record<string, unknown>) => authorization.authorize({ authorization: `Bearer ${await token(claims)}`, resource: "tool:pay" });
    expect(await call({ groups: ["admins"] })).toMatchObject({ decision: Decision.ALLOW, reason: "ok" });
    expect(await call({ groups: ["users"] })).toMatchObject({ decision: Decision.DENY, reason: "no_policy" });
    expect(await call({})).toMatchObject({ decision: Decision.DENY, reason: "condition_error" });
  });

  it("refuses a reload whose condition does not type-check, naming the rule's path, and keeps deciding with the policy in use", async () => {
    const path = writeConfig(POLICY);
    server = await startInProcess({ PORTCULLIS_CONFIG: path, PORTCULLIS_WATCH_CONFIG: "false" });
    writeFileSync(path, POLICY.replace("request.host.endsWith('.internal')", "request.host.endsWith(1)"));
    const outcome = await server.running.reload();
    expect(outcome).toMatchObject({ result: "failure", field: "policy.rules[0].when", reason: expect.stringContaining("'endsWith' applies to strings") });
    const { authorization } = createClients(server.url);
    expect(await authorization.authorize({ resource: "GET /health", host: "status.internal" })).toMatchObject({ decision: Decision.ALLOW });
  });

  it("stops the real process at start on a condition that reads an undeclared variable, naming the rule's path", async () => {
    const file = writeConfig("policy:\n  rules:\n    - path: /a\n      scope: x\n    - path: /b\n      scope: y\n      when: user.admin\n");
    const { code, stderr } = await failedStart({ PORTCULLIS_CONFIG: file });
    expect(code).toBe(1);
    expect(stderr).toContain("portcullis: cannot start: policy.rules[1].when: undeclared reference to 'user'");
  }, 60_000);
});
