import type { Static } from "@sinclair/typebox";
import { isOn, section, switchSetting } from "../settings-schema/schema-kit.js";

export const metricsSchema = section("Prometheus metrics.", {
  enabled: switchSetting({
    env: "PORTCULLIS_METRICS_ENABLED",
    default: true,
    description: "Prometheus metrics at `GET /metrics` (see [Observability](../README.md#observability))",
  }),
});

export function metricsEnabled(file: Static<typeof metricsSchema> = {}): boolean {
  return isOn(file.enabled, true);
}
