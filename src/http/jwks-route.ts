import { readOnlyRoute, type Route } from "./route-table.js";

export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * Publishes the public keys of Portcullis's own ES256 signing keys at
 * /.well-known/jwks.json, so others can verify team tokens.
 */
export function jwksRoute(publicKeys: () => Promise<object[]>): Route {
  return readOnlyRoute([JWKS_PATH], (request, response) => {
    publicKeys().then(
      (keys) => {
        // Short caching: a retired key must drop out of verifiers' caches soon.
        response.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=60" });
        response.end(request.method === "HEAD" ? "" : JSON.stringify({ keys }));
      },
      () => {
        response.writeHead(503, { "content-type": "application/json", "cache-control": "no-store" });
        response.end(request.method === "HEAD" ? "" : JSON.stringify({ error: "unavailable" }));
      },
    );
  });
}
