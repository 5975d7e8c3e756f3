import type { RequestHandler } from "./listener.js";

export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * Publishes the public keys of Portcullis's own ES256 signing keys at
 * /.well-known/jwks.json, so others can verify team tokens. Returns a
 * handler that answers that path and passes everything else on.
 */
export function withJwks(publicKeys: () => Promise<object[]>, next: RequestHandler): RequestHandler {
  return (request, response) => {
    if (request.url?.split("?")[0] !== JWKS_PATH) return next(request, response);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
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
  };
}
