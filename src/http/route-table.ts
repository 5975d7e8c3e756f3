import type { RequestHandler } from "./listener.js";

type Request = Parameters<RequestHandler>[0];

/** One entry of the HTTP route table. */
export interface Route {
  /** `path` is the request's URL without its query string. */
  matches(request: Request, path: string): boolean;
  handle: RequestHandler;
}

/**
 * The server's HTTP handler as an ordered table: the first route that
 * matches answers, and a request no route matches goes to `fallback`.
 */
export function routeTable(routes: readonly Route[], fallback: RequestHandler): RequestHandler {
  return (request, response) => {
    const url = request.url ?? "";
    const query = url.indexOf("?");
    // No copy on the common path: most requests (every gRPC call) carry no query.
    const path = query === -1 ? url : url.slice(0, query);
    const route = routes.find((candidate) => candidate.matches(request, path));
    (route?.handle ?? fallback)(request, response);
  };
}

/**
 * A read-only resource at fixed paths (the query string ignored): GET and
 * HEAD reach `handle`, any other method is answered 405.
 */
export function readOnlyRoute(paths: readonly string[], handle: RequestHandler): Route {
  const served = new Set(paths);
  return {
    matches: (_request, path) => served.has(path),
    handle(request, response) {
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      handle(request, response);
    },
  };
}
