import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { systemClock } from "../../src/clock.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { mintTestTokens, TEST_POLICY, type TestTokens } from "../support/envoy-fixture.js";
import { grpcJsUnary } from "../support/grpc-js-unary.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { AuthorizationService, Decision } from "../../gen/portcullis/v1/authorization_pb.js";

const writeConfig = configFileWriter();

/** A W3C traceparent with fresh ids, as a gateway would send it. */
function traceParent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

async function startTraced(env: Record<string, string>, exporter: InMemorySpanExporter) {
  const root = `pcl_root_${randomBytes(24).toString("hex")}`;
  const config = writeConfig(stringify({ policy: TEST_POLICY }));
  // Caches off: each decision reads its token from the store, so every decision span has store children to show.
  const server = await startInProcess({ PORTCULLIS_CONFIG: config, PORTCULLIS_ROOT_TOKENS: root, PORTCULLIS_CACHE_ENABLED: "false", ...env }, systemClock, {
    tracing: { spanProcessor: new SimpleSpanProcessor(exporter) },
  });
  return { server, tokens: await mintTestTokens(server.url, root).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  }) };
}

describe("decision spans, with tracing on and spans kept by an in-memory exporter", () => {
  const exporter = new InMemorySpanExporter();
  let server: InProcessPortcullis;
  let tokens: TestTokens;
  let envoy: EnvoyClient;
  beforeAll(async () => {
    ({ server, tokens } = await startTraced({ OTEL_TRACES_EXPORTER: "otlp" }, exporter));
    envoy = createEnvoyClient(server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
  });
  beforeEach(() => exporter.reset());

  const spans = () => exporter.getFinishedSpans();
  const only = (name: string): ReadableSpan => {
    const named = spans().filter((span) => span.name === name);
    expect(named).toHaveLength(1);
    return named[0]!;
  };
  const childrenOf = (parent: ReadableSpan) => spans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

  it("gives an Authorize on the lean gRPC path (grpc-js) one SERVER span under the traceparent of its metadata, with what was decided", async () => {
    const parent = traceParent();
    const outcome = await grpcJsUnary(
      server.url,
      AuthorizationService.method.authorize,
      { authorization: `Bearer ${tokens.reader}`, resource: "GET /api/kafka/topics" },
      { traceparent: parent.header, tracestate: "gateway=abc" },
    );
    expect(outcome).toMatchObject({ reply: { decision: Decision.ALLOW } });

    const span = only("portcullis.authorize");
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(parent.traceId);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(span.spanContext().traceState?.serialize()).toBe("gateway=abc");
    expect(span.attributes).toEqual({
      "portcullis.decision": "allow",
      "portcullis.reason": "ok",
      "portcullis.rule": "kafka-read",
      "portcullis.credential_type": "opaque",
    });
    expect(span.resource.attributes["service.name"]).toBe("portcullis");
  });

  it("puts the store calls of a decision under its span, named by operation", async () => {
    const parent = traceParent();
    await grpcJsUnary(
      server.url,
      AuthorizationService.method.authorize,
      { authorization: `Bearer ${tokens.writer}`, resource: "POST /api/kafka/topics" },
      { traceparent: parent.header },
    );
    const decision = only("portcullis.authorize");
    const lookup = childrenOf(decision).find((span) => span.name === "portcullis.store tokens.get");
    expect(lookup?.kind).toBe(SpanKind.CLIENT);
    expect(lookup?.spanContext().traceId).toBe(parent.traceId);
    expect(lookup?.attributes).toEqual({ "portcullis.store.backend": "embedded", "portcullis.store.operation": "tokens.get" });
  });

  it("gives an Authorize through connect-node (Connect protocol over HTTP/2) the same span under its traceparent header", async () => {
    const client = createClient(AuthorizationService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    const parent = traceParent();
    const response = await client.authorize(
      { authorization: `Bearer ${tokens.toolUser}`, resource: "GET /api/kafka/topics" },
      { headers: { traceparent: parent.header } },
    );
    expect(response.decision).toBe(Decision.DENY);

    const span = only("portcullis.authorize");
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(parent.traceId);
    expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(span.attributes).toEqual({
      "portcullis.decision": "deny",
      "portcullis.reason": "insufficient_scope",
      "portcullis.rule": "kafka-read",
      "portcullis.credential_type": "opaque",
    });
    expect(childrenOf(span).map((child) => child.name)).toContain("portcullis.store tokens.get");
  });

  it("parents an Envoy Check to the traceparent among the checked request's headers, over the one in the call's metadata", async () => {
    const request = traceParent();
    const envoyOwn = traceParent();
    const response = await envoy.check(
      {
        method: "GET",
        path: "/api/kafka/topics",
        headers: { authorization: `Bearer ${tokens.reader}`, traceparent: request.header, tracestate: "edge=1" },
      },
      { traceparent: envoyOwn.header, tracestate: "envoy=2" },
    );
    expect(response.status?.code).toBe(0);

    const span = only("portcullis.check");
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(request.traceId);
    expect(span.parentSpanContext?.spanId).toBe(request.spanId);
    expect(span.spanContext().traceState?.serialize()).toBe("edge=1");
    expect(span.attributes).toEqual({
      "portcullis.decision": "allow",
      "portcullis.reason": "ok",
      "portcullis.rule": "kafka-read",
      "portcullis.credential_type": "opaque",
    });
    expect(childrenOf(span).map((child) => child.name)).toContain("portcullis.store tokens.get");
  });

  it("parents an Envoy Check whose request carries no traceparent to the one in the call's metadata", async () => {
    const envoyOwn = traceParent();
    const response = await envoy.check({ method: "GET", path: "/api/kafka/topics" }, { traceparent: envoyOwn.header });
    expect(response.status?.code).toBe(16);

    const span = only("portcullis.check");
    expect(span.parentSpanContext?.spanId).toBe(envoyOwn.spanId);
    expect(span.attributes).toEqual({ "portcullis.decision": "deny", "portcullis.reason": "missing_credential", "portcullis.rule": "kafka-read" });
  });

  it("names no rule on a span where no policy rule matched", async () => {
    const response = await envoy.check({ method: "GET", path: "/nowhere", headers: { authorization: `Bearer ${tokens.reader}` } });
    expect(response.status?.code).toBe(7);
    expect(only("portcullis.check").attributes).toEqual({ "portcullis.decision": "deny", "portcullis.reason": "no_policy" });
  });

  it.each([
    ["not a traceparent"],
    ["00-00000000000000000000000000000000-0000000000000000-01"],
    ["ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"],
  ])("starts a new trace for the malformed traceparent %j and decides as without it", async (malformed) => {
    const lean = await grpcJsUnary(
      server.url,
      AuthorizationService.method.authorize,
      { authorization: `Bearer ${tokens.reader}`, resource: "GET /api/kafka/topics" },
      { traceparent: malformed },
    );
    expect(lean).toMatchObject({ reply: { decision: Decision.ALLOW, reason: "ok" } });
    const check = await envoy.check({
      method: "GET",
      path: "/api/kafka/topics",
      headers: { authorization: `Bearer ${tokens.reader}`, traceparent: malformed },
    });
    expect(check.status?.code).toBe(0);

    for (const name of ["portcullis.authorize", "portcullis.check"]) {
      const span = only(name);
      expect(span.parentSpanContext).toBeUndefined();
      expect(malformed).not.toContain(span.spanContext().traceId);
      expect(span.attributes["portcullis.decision"]).toBe("allow");
    }
  });

  it("starts a new trace for a decision asked without any traceparent", async () => {
    await grpcJsUnary(server.url, AuthorizationService.method.authorize, { authorization: `Bearer ${tokens.reader}`, resource: "GET /api/kafka/topics" });
    expect(only("portcullis.authorize").parentSpanContext).toBeUndefined();
  });

  it("puts no token, and no value of a header, into any span", async () => {
    const unknown = `pcl_${randomBytes(24).toString("hex")}`;
    const secrets = [tokens.reader, tokens.writer, tokens.toolUser, tokens.revoked, tokens.expired, unknown];
    for (const token of secrets) {
      await grpcJsUnary(server.url, AuthorizationService.method.authorize, { authorization: `Bearer ${token}`, resource: "GET /api/kafka/topics" });
      await envoy.check({ method: "POST", path: "/api/kafka/topics", headers: { authorization: `Bearer ${token}`, "x-custom": "header-value-42" } });
    }
    const recorded = spans();
    expect(recorded.filter((span) => span.name === "portcullis.authorize")).toHaveLength(secrets.length);
    expect(recorded.filter((span) => span.name === "portcullis.check")).toHaveLength(secrets.length);
    const text = JSON.stringify(recorded.map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events })));
    for (const token of secrets) expect(text).not.toContain(token);
    expect(text).not.toContain("header-value-42");
    expect(text).not.toContain("Bearer");
  });
});

describe("decision spans, without any OTEL variable", () => {
  it("hands the span exporter nothing: tracing stays off", async () => {
    const exporter = new InMemorySpanExporter();
    const { server, tokens } = await startTraced({}, exporter);
    const envoy = createEnvoyClient(server.url);
    try {
      const parent = traceParent();
      const outcome = await grpcJsUnary(
        server.url,
        AuthorizationService.method.authorize,
        { authorization: `Bearer ${tokens.reader}`, resource: "GET /api/kafka/topics" },
        { traceparent: parent.header },
      );
      expect(outcome).toMatchObject({ reply: { decision: Decision.ALLOW } });
      const check = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers: { authorization: `Bearer ${tokens.reader}`, traceparent: parent.header } });
      expect(check.status?.code).toBe(0);
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      envoy.close();
      await server.stop();
    }
  });
});
