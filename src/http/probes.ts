import { UnavailableError } from "../errors.js";
import { readOnlyRoute, type Route } from "./route-table.js";

/**
 * Liveness (/healthz) and readiness (/readyz) over plain HTTP, open without
 * credentials. A failed readiness check says why when the store gave a
 * reason code (`store_write_failing`); never the error's message or cause.
 * Readiness also names the configuration in use (`config`: its file's hash),
 * so a rollout can tell which replicas have reloaded a change.
 */
export function probeRoute(ready: () => Promise<void>, configHash: () => string): Route {
  return readOnlyRoute(["/healthz", "/readyz"], (request, response) => {
    const answer = (status: number, body: object) => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? "" : JSON.stringify(body));
    };
    if (request.url?.split("?")[0] === "/healthz") return answer(200, { status: "ok" });
    ready().then(
      () => answer(200, { status: "ready", config: configHash() }),
      (error: unknown) => {
        const reason = error instanceof UnavailableError ? error.reason : undefined;
        const config = configHash();
        answer(503, reason === undefined ? { status: "unavailable", config } : { status: "unavailable", reason, config });
      },
    );
  });
}
