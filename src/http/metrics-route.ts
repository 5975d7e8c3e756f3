import type { Registry } from "prom-client";
import { readOnlyRoute, type Route } from "./route-table.js";

/**
 * Prometheus metrics at GET /metrics over plain HTTP, open like the probes
 * (labels never hold a secret or request text).
 */
export function metricsRoute(registry: Registry): Route {
  return readOnlyRoute(["/metrics"], (request, response) => {
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        response.end(request.method === "HEAD" ? "" : text);
      },
      () => response.writeHead(500).end(),
    );
  });
}
