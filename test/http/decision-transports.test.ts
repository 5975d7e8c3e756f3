import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService, AuthorizeRequestSchema, Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import { startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-grpc.js";

const PROTECTED_RESOURCE = {
  resource: "https://api.example.com/mcp",
  authorization_servers: ["https://auth.example.com"],
  scopes_supported: ["kafka:read", "kafka:write"],
  bearer_methods_supported: ["header"],
};

describe("the decision methods on every protocol the server speaks", () => {
  let fixture: EnvoyFixture;
  beforeAll(async () => {
    fixture = await startEnvoyFixture({ config: { protected_resource: PROTECTED_RESOURCE } });
  });
  afterAll(async () => {
    await fixture?.server.stop();
  });

  it("answers Authorize over Connect JSON, Connect binary and gRPC-Web on HTTP/1.1, and gRPC on HTTP/2", async () => {
    const url = fixture.server.url;
    const transports = [
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false }),
      createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true }),
      createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
    ];
    const request = { authorization: `Bearer ${fixture.tokens.reader}`, resource: "GET /api/kafka/topics" };
    for (const transport of transports) {
      const response = await createClient(AuthorizationService, transport).authorize(request);
      expect([response.decision, response.reason]).toEqual([Decision.ALLOW, "ok"]);
    }
    const grpc = await createClients(url).authorization.authorize(request);
    expect([grpc.decision, grpc.reason]).toEqual([Decision.ALLOW, "ok"]);
  });

  it("takes gRPC over HTTP/2 on the lean path: its own error for a garbled message, where connect-node's would differ", async () => {
    const garbled = grpcFrame(Buffer.from([0x12, 0xff]));
    const reply = await rawGrpcCall(fixture.server.url, "/portcullis.v1.AuthorizationService/Authorize", garbled);
    expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, 3, "malformed portcullis.v1.AuthorizeRequest message"]);
    const valid = toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { resource: "GET /health" }));
    expect((await rawGrpcCall(fixture.server.url, "/portcullis.v1.AuthorizationService/Authorize", grpcFrame(valid))).status).toBe(0);
  });

  it("serves Envoy's Check to Connect JSON clients too, through connect-node", async () => {
    const envoy = createClient(EnvoyAuthorization, createConnectTransport({ baseUrl: fixture.server.url, httpVersion: "1.1", useBinaryFormat: false }));
    const response = await envoy.check({
      attributes: {
        request: { http: { method: "GET", path: "/api/kafka/topics", headers: { authorization: `Bearer ${fixture.tokens.reader}` } } },
      },
    });
    expect(response.status?.code).toBe(0);
    expect(response.httpResponse.case).toBe("okResponse");
  });

  it("serves RFC 9728 protected-resource metadata at the well-known paths, without credentials", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const response = await fetch(`${fixture.server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.json()).toEqual(PROTECTED_RESOURCE);
    }
    expect((await fetch(`${fixture.server.url}/.well-known/oauth-protected-resource`, { method: "POST" })).status).toBe(405);
  });
});
