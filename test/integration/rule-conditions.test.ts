import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { checkRequest, createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
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
