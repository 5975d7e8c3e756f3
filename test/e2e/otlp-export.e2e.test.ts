import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { bearer, createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient } from "../support/envoy-client.js";
import { mintTestTokens, TEST_POLICY } from "../support/envoy-fixture.js";
import { startPortcullisProcess } from "../support/portcullis-process.js";

interface Received {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

/** A local OTLP/HTTP collector: it keeps every request and answers 200 with an empty ExportTraceServiceResponse. */
async function startCollector() {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        path: request.url ?? "",
        contentType: request.headers["content-type"] ?? "",
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    received,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const writeConfig = configFileWriter();

/** Starts Portcullis with `env`, asks one Authorize (lean gRPC path) and one Envoy Check under `traceparent`, and stops it. */
async function decideAndStop(env: Record<string, string>, traceparent: string): Promise<string[]> {
  const root = `pcl_root_${randomBytes(24).toString("hex")}`;
  const server = await startPortcullisProcess({
    env: {
      PORTCULLIS_CONFIG: writeConfig(stringify({ policy: TEST_POLICY })),
      PORTCULLIS_ROOT_TOKENS: root,
      // The test's HTTP/2 clients keep their connections open: the stop waits for them no longer than this.
      PORTCULLIS_SHUTDOWN_GRACE_MS: "500",
      ...env,
    },
  });
  const envoy = createEnvoyClient(server.url);
  try {
    const tokens = await mintTestTokens(server.url, root);
    const { authorization } = createClients(server.url);
    const answer = await authorization.authorize(
      { authorization: `Bearer ${tokens.reader}`, resource: "GET /api/kafka/topics" },
      { headers: { traceparent } },
    );
    expect(answer.reason).toBe("ok");
    const check = await envoy.check({ method: "POST", path: "/api/kafka/topics", headers: { authorization: `Bearer ${tokens.reader}`, traceparent } });
    expect(check.status?.code).toBe(7);
    // The admin API is asked too: its calls make no span.
    await createClients(server.url).admin.listTokens({}, bearer(root));
    return [root, ...Object.values(tokens)];
  } finally {
    envoy.close();
    expect(await server.stop()).toBe(0);
  }
}

describe("OTLP export from a spawned server to a local collector", () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it("posts the decision spans, in the gateway's trace, to /v1/traces when it stops, with no token in them", async () => {
    collector.received.length = 0;
    const traceId = randomBytes(16).toString("hex");
    const secrets = await decideAndStop(
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: "portcullis-e2e",
        // Nothing is exported on a timer during the test: what arrives was flushed by the shutdown.
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      },
      `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
    );

    expect(collector.received.length).toBeGreaterThan(0);
    for (const request of collector.received) {
      expect(request).toMatchObject({ method: "POST", path: "/v1/traces", contentType: "application/x-protobuf" });
    }
    const exported = Buffer.concat(collector.received.map((request) => request.body));
    // OTLP protobuf keeps strings as UTF-8 and ids as raw bytes.
    for (const text of ["portcullis.authorize", "portcullis.check", "portcullis.store tokens.get", "portcullis-e2e", "kafka-read", "insufficient_scope"]) {
      expect(exported.includes(Buffer.from(text))).toBe(true);
    }
    expect(exported.includes(Buffer.from(traceId, "hex"))).toBe(true);
    for (const secret of secrets) expect(exported.includes(Buffer.from(secret))).toBe(false);
  });

  it("exports nothing when OTEL_TRACES_EXPORTER is none, though an endpoint is set", async () => {
    collector.received.length = 0;
    await decideAndStop(
      { OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "10" },
      `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`,
    );
    expect(collector.received).toEqual([]);
  });
});
