import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { tracingSettings } from "../../src/tracing/tracing-settings.js";
import { refusal } from "../support/config-files.js";

describe("tracing settings from the standard OpenTelemetry variables", () => {
  it("keeps tracing off when no OTEL variable asks for it", () => {
    expect(tracingSettings({})).toEqual({ warnings: [] });
    expect(tracingSettings({ OTEL_SERVICE_NAME: "gate" }).tracing).toBeUndefined();
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: "otlp" }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" }],
    [{ OTEL_TRACES_EXPORTER: " OTLP , console", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }],
  ])("turns tracing on for %j, as service portcullis", (env) => {
    expect(tracingSettings(env).tracing).toEqual({ serviceName: "portcullis" });
  });

  it("names the service by OTEL_SERVICE_NAME", () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SERVICE_NAME: "edge-authz" }).tracing).toEqual({ serviceName: "edge-authz" });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }],
    [{ OTEL_TRACES_EXPORTER: "otlp,none" }],
    [{ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" }],
    [{ OTEL_TRACES_EXPORTER: "", OTEL_EXPORTER_OTLP_ENDPOINT: "  " }],
  ])("keeps tracing off for %j", (env) => {
    expect(tracingSettings(env).tracing).toBeUndefined();
  });

  it("warns about an exporter it does not have, and exports nothing when otlp is not among them", () => {
    const { tracing, warnings } = tracingSettings({ OTEL_TRACES_EXPORTER: "zipkin", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });
    expect(tracing).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("zipkin")]);
    expect(loadConfig({ PORTCULLIS_LISTEN: "127.0.0.1:0", OTEL_TRACES_EXPORTER: "zipkin" }).warnings).toEqual([expect.stringContaining("zipkin")]);
  });

  it("refuses to start with an OTLP protocol other than http/protobuf, naming the variable, the traces one first", () => {
    expect(refusal({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).field).toBe("OTEL_EXPORTER_OTLP_PROTOCOL");
    expect(refusal({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }).field).toBe("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).tracing)
      .toEqual({ serviceName: "portcullis" });
  });

  it("hands the wiring the settings through the configuration", () => {
    expect(loadConfig({ PORTCULLIS_LISTEN: "127.0.0.1:0" }).tracing).toBeUndefined();
    expect(loadConfig({ PORTCULLIS_LISTEN: "127.0.0.1:0", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }).tracing).toEqual({
      serviceName: "portcullis",
    });
  });
});
