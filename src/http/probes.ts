import type { RequestHandler } from "./listener.js";

/**
 * Liveness and readiness over plain HTTP, open without credentials.
 * Returns a handler that answers the probe paths and passes everything else on.
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
      () => answer(503, { status: "unavailable" }),
    );
  };
}
