import { Code } from "@connectrpc/connect";
import { status, type ServiceError } from "@grpc/grpc-js";
import http2 from "node:http2";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/tls-certificates.js";
import { curlTls, grpcTls, nodeTls } from "../support/tls-clients.js";

const GATEWAY = "spiffe://example.org/ns/edge/sa/envoy";
const OPERATOR = "dns:ops.example.org";
const AUTHORIZE_PATH = "/portcullis.v1.AuthorizationService/Authorize";

describe("TLS with client certificates (mTLS) and caller identity on the one port", () => {
  let pki: TestPki;
  let foreignPki: TestPki;
  let server: InProcessPortcullis;
  let base: string;
  let root: string;
  const certificates: Record<"gateway" | "operator" | "stranger" | "foreign", CertificateFiles> = {} as never;
  beforeAll(async () => {
    pki = createTestPki();
    foreignPki = createTestPki("Someone else's CA");
    const serving = pki.server("server");
    certificates.gateway = pki.client("gateway", [`URI:${GATEWAY}`]);
    certificates.operator = pki.client("operator", ["DNS:OPS.example.org"]);
    certificates.stranger = pki.client("stranger", ["URI:spiffe://example.org/ns/other/sa/app", "DNS:app.example.org"]);
    certificates.foreign = foreignPki.client("foreign", [`URI:${GATEWAY}`]);
    server = await startInProcess({
      PORTCULLIS_TLS_CERT_FILE: serving.cert,
      PORTCULLIS_TLS_KEY_FILE: serving.key,
      PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
      PORTCULLIS_CALLER_IDENTITY: JSON.stringify({
        rules: [
          { services: ["envoy.service.auth.v3.Authorization", "portcullis.v1.AuthorizationService"], identities: [GATEWAY] },
          { services: ["portcullis.v1.TokenAdminService", "portcullis.v1.DcrService", "portcullis.v1.OAuthFlowService"], identities: [OPERATOR] },
        ],
      }),
      PORTCULLIS_POLICY: JSON.stringify({ rules: [{ path: "/health", public: true }], default_scope: "api:read" }),
    });
    base = `https://localhost:${server.running.listener.address.port}`;
    root = await server.rootToken();
  });
  afterAll(async () => {
    await server?.stop();
    pki?.dispose();
    foreignPki?.dispose();
  });

  const connectAs = (who: keyof typeof certificates): Clients => createClients(base, nodeTls(who === "foreign" ? foreignPki : pki, certificates[who]));
  const envoyAs = (who: keyof typeof certificates | undefined): EnvoyClient =>
    createEnvoyClient(base, grpcTls(pki, who === undefined ? undefined : certificates[who]));
  const metric = async (name: string, labels: Record<string, string>) => {
    const answer = await curlTls(pki, certificates.operator, [`${base}/metrics`]);
    return sampleValue(parseSamples(answer.body), name, labels) ?? 0;
  };

  it("answers Envoy's Check over HTTP/2 and TLS to the gateway's certificate, from a grpc-js client built from the upstream protos", async () => {
    const envoy = envoyAs("gateway");
    try {
      const response = await envoy.check({ method: "GET", path: "/health" });
      expect(response.status?.code).toBe(0);
      expect(response.http_response).toBe("ok_response");
    } finally {
      envoy.close();
    }
  });

  it("answers Connect over HTTP/1.1 to curl with the gateway's certificate", async () => {
    const answer = await curlTls(pki, certificates.gateway, [
      "--http1.1", "-X", "POST", "-H", "content-type: application/json", "-d", JSON.stringify({ resource: "GET /health" }), `${base}${AUTHORIZE_PATH}`,
    ]);
    expect([answer.exitCode, answer.status, answer.httpVersion]).toEqual([0, 200, "1.1"]);
    expect(JSON.parse(answer.body)).toMatchObject({ decision: "DECISION_ALLOW", reason: "public_resource" });
  });

  it("refuses a client without a certificate during the handshake, before any request", async () => {
    const answer = await curlTls(pki, undefined, ["--http1.1", `${base}/healthz`]);
    expect(answer.exitCode).not.toBe(0);
    expect(answer.status).toBe(0);

    const envoy = envoyAs(undefined);
    try {
      const error = (await envoy.check({ method: "GET", path: "/health" }).catch((caught: unknown) => caught)) as ServiceError;
      expect(error.code).toBe(status.UNAVAILABLE);
    } finally {
      envoy.close();
    }

    // At the TLS layer: the connection ends without a byte of HTTP, whatever the client wrote.
    const received = await new Promise<string>((resolve) => {
      let data = "";
      const socket = tls.connect({ host: "127.0.0.1", port: server.running.listener.address.port, servername: "localhost", ...nodeTls(pki) }, () =>
        socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n"),
      );
      socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
      socket.on("error", () => undefined);
      socket.once("close", () => resolve(data));
    });
    expect(received).toBe("");
  });

  it("refuses a certificate another CA signed, even with an allowed name", async () => {
    const answer = await curlTls(pki, certificates.foreign, ["--http1.1", `${base}/healthz`]);
    expect(answer.exitCode).not.toBe(0);
    expect(answer.status).toBe(0);
  });

  it("refuses TokenAdminService to a certificate whose SAN no rule allows for it, with caller_not_allowed, and admits the operator's", async () => {
    const before = await metric("portcullis_caller_identity_refusals_total", { service: "portcullis.v1.TokenAdminService" });
    for (const who of ["gateway", "stranger"] as const) {
      // The root bearer is not enough: the certificate is judged first.
      const refused = await rejectionOf(connectAs(who).admin.listTokens({}, bearer(root)));
      expect(refused.code).toBe(Code.PermissionDenied);
      expect(refused.rawMessage).toBe("caller_not_allowed: this client certificate may not call portcullis.v1.TokenAdminService");
    }
    // Over Connect on HTTP/1.1 too.
    const overCurl = await curlTls(pki, certificates.stranger, [
      "--http1.1", "-X", "POST", "-H", "content-type: application/json", "-H", `authorization: Bearer ${root}`, "-d", "{}",
      `${base}/portcullis.v1.TokenAdminService/ListTokens`,
    ]);
    expect(overCurl.status).toBe(403);
    expect(JSON.parse(overCurl.body)).toMatchObject({ code: "permission_denied", message: expect.stringMatching(/^caller_not_allowed: /) });

    const listed = await connectAs("operator").admin.listTokens({}, bearer(root));
    expect(listed.tokens).toBeDefined();
    // The operator's certificate is not a credential: the bearer is still required.
    expect((await rejectionOf(connectAs("operator").admin.listTokens({}))).code).toBe(Code.Unauthenticated);
    expect(await metric("portcullis_caller_identity_refusals_total", { service: "portcullis.v1.TokenAdminService" })).toBe(before + 3);
    expect(server.output()).toContain("caller identity: call refused (caller_not_allowed)");
  });

  it("refuses Check and gRPC Authorize on the lean gRPC path to a certificate no rule allows for them", async () => {
    const envoy = envoyAs("operator");
    try {
      const error = (await envoy.check({ method: "GET", path: "/health" }).catch((caught: unknown) => caught)) as ServiceError;
      expect([error.code, error.details]).toEqual([
        status.PERMISSION_DENIED,
        "caller_not_allowed: this client certificate may not call envoy.service.auth.v3.Authorization",
      ]);
    } finally {
      envoy.close();
    }
    const refused = await rejectionOf(connectAs("stranger").authorization.authorize({ resource: "GET /health" }));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.PermissionDenied,
      "caller_not_allowed: this client certificate may not call portcullis.v1.AuthorizationService",
    ]);
    expect(await connectAs("gateway").authorization.authorize({ resource: "GET /health" })).toMatchObject({ reason: "public_resource" });
  });

  it("keeps the plain HTTP resources (probes, metrics) to the handshake alone: any certificate the CA signed", async () => {
    const answer = await curlTls(pki, certificates.stranger, [`${base}/healthz`]);
    expect([answer.exitCode, answer.status, answer.httpVersion]).toEqual([0, 200, "2"]);
  });

  it("serves HTTP/2 to a client that offers h2 by ALPN and HTTP/1.1 to one that offers only http/1.1", async () => {
    const session = http2.connect(base, nodeTls(pki, certificates.gateway));
    try {
      const answered = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":path": "/healthz" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.resume();
        stream.end();
      });
      expect([answered, session.alpnProtocol]).toEqual([200, "h2"]);
    } finally {
      session.close();
    }
    const answer = await curlTls(pki, certificates.gateway, ["--http1.1", `${base}/healthz`]);
    expect([answer.status, answer.httpVersion]).toEqual([200, "1.1"]);
  });
});
