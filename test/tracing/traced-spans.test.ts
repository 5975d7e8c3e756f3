import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createJwksKeySource } from "../../src/credentials/jwt/jwks-key-source.js";
import { UnavailableError } from "../../src/errors.js";
import { tracingWith } from "../../src/tracing/traced-spans.js";
import { generateTestKey, OidcProvider } from "../support/oidc-provider.js";

function tracingInMemory() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracing: tracingWith(provider.getTracer("test")), spans: () => exporter.getFinishedSpans() };
}

describe("spans on an OpenTelemetry tracer", () => {
  const providers: OidcProvider[] = [];
  afterEach(async () => {
    for (const provider of providers.splice(0)) await provider.stop();
  });

  it("runs a child outside any server span untraced, and under one as its child", async () => {
    const { tracing, spans } = tracingInMemory();
    expect(tracing.child("outside", "internal", {}, () => 7)).toBe(7);
    expect(spans()).toEqual([]);

    await tracing.server("decision", undefined, async () => {
      await tracing.child("lookup", "client", { kind: "test" }, async () => "found");
      tracing.child("sync", "internal", {}, () => undefined);
    });
    const server = spans().find((span) => span.name === "decision")!;
    expect(server.kind).toBe(SpanKind.SERVER);
    for (const name of ["lookup", "sync"]) {
      const child = spans().find((span) => span.name === name)!;
      expect(child.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
    expect(spans().find((span) => span.name === "lookup")!.attributes).toEqual({ kind: "test" });
  });

  it("marks a span whose work threw as failed with the error's type only, and rethrows", async () => {
    const { tracing, spans } = tracingInMemory();
    const outage = new UnavailableError("redis at 10.0.0.7 said pcl_secret");
    await expect(
      tracing.server("decision", undefined, () => tracing.child("store", "client", {}, () => Promise.reject(outage))),
    ).rejects.toBe(outage);
    expect(() => tracing.child("outside", "internal", {}, () => {
      throw outage;
    })).toThrow(outage);
    for (const span of spans()) expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: "UnavailableError" });
    expect(spans()).toHaveLength(2);
  });

  it("keeps the spans of two tracings apart, so two servers in one process never share a parent", async () => {
    const first = tracingInMemory();
    const second = tracingInMemory();
    await first.tracing.server("first", undefined, async () => {
      second.tracing.child("second-child", "internal", {}, () => undefined);
    });
    expect(second.spans()).toEqual([]);
  });

  it("makes a JWKS fetch a CLIENT span under the decision that waited for it, naming the endpoint", async () => {
    const idp = new OidcProvider("oidc");
    await idp.start();
    providers.push(idp);
    const key = await generateTestKey("ES256", "k1");
    idp.publish(key);
    const { tracing, spans } = tracingInMemory();
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, tracing });

    await tracing.server("portcullis.authorize", undefined, () => source.getKey({ alg: "ES256", kid: "k1" }));
    const decision = spans().find((span) => span.name === "portcullis.authorize")!;
    const fetch = spans().find((span) => span.name === "portcullis.jwks fetch")!;
    expect(fetch.kind).toBe(SpanKind.CLIENT);
    expect(fetch.parentSpanContext?.spanId).toBe(decision.spanContext().spanId);
    expect(fetch.attributes).toEqual({ "portcullis.jwks.endpoint": idp.jwksUri });
    expect(idp.jwksFetches).toBe(1);
  });
});
