import { UnavailableError } from "../errors.js";
import type { RequestHandler } from "./listener.js";

/**
 * Liveness and readiness over plain HTTP, open without credentials.
 * Returns a handler that answers the probe paths and passes everything else on.
 * A failed readiness check says why when the store gave a reason code
 * (`store_write_failing`); never the error's message or cause.
 */
export function withProbes(ready: () => Promise<void>, next: RequestHandler): RequestHandler {
  return (request, response) => {
    const path = request.url?.split("?")[0];
    if (path !== "/healthz" && path !== "/readyz") return next(request, response);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const answer = (status: number, body: object) => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(request.method === "HEAD" ? "" : JSON.stringify(body));
    };
    if (path === "/healthz") return answer(200, { status: "ok" });
    ready().then(
      () => answer(200, { status: "ready" }),
      (error: unknown) => {
        const reason = error instanceof UnavailableError ? error.reason : undefined;
        answer(503, reason === undefined ? { status: "unavailable" } : { status: "unavailable", reason });
      },
    );
  };
}
