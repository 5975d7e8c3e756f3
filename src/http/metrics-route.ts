import type { Registry } from "prom-client";
import type { RequestHandler } from "./listener.js";

/**
 * Prometheus metrics at GET /metrics over plain HTTP, open like the probes
 * (labels never hold a secret or request text). Passes everything else on.
 */
export function withMetrics(registry: Registry, next: RequestHandler): RequestHandler {
  return (request, response) => {
    if (request.url?.split("?")[0] !== "/metrics") return next(request, response);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        response.end(request.method === "HEAD" ? "" : text);
      },
      () => response.writeHead(500).end(),
    );
  };
}
