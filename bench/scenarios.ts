/**
 * What each scenario sends where, and which decisions it must produce.
 * Names are the ones issue 12 and BENCHMARKS.md use.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizeRequestSchema } from "../gen/portcullis/v1/authorization_pb.js";
import { grpcFrame } from "../test/support/raw-grpc.js";
import { BENCH_RESOURCE } from "./bench-credentials.js";
import type { LoadTarget } from "./load-generator.js";
import type { ScenarioName } from "./results.js";

export type Host = "raw" | "redis" | "embedded";

export interface Scenario {
  name: ScenarioName | "raw-noop";
  description: string;
  host: Host;
  /** Needs a different body per request, which only bench/load-client.ts sends. */
  perRequestBodies: boolean;
  /** What to send, once the credentials exist. */
  target(credentials: ScenarioCredentials): Omit<LoadTarget, "url">;
  /** Share of the server's decisions that must be ALLOW (the rest DENY); undefined for the raw no-op. */
  allowShare?: number;
}

export interface ScenarioCredentials {
  redisOpaque: string;
  embeddedOpaque: string;
  rs256: string;
  teamJwt: string;
}

const GRPC = { "content-type": "application/grpc", te: "trailers" };
const AUTHORIZE = "/portcullis.v1.AuthorizationService/Authorize";
const CHECK = "/envoy.service.auth.v3.Authorization/Check";
/** Where the load client writes a fresh 256-bit token (43 base64url characters) into each request. */
export const FRESH_TOKEN = "FRESH_TOKEN_".padEnd(43, "X");

function authorize(token: string): Uint8Array {
  return toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { authorization: `Bearer ${token}`, resource: BENCH_RESOURCE }));
}

function check(token: string): Uint8Array {
  const [method, path] = BENCH_RESOURCE.split(" ") as [string, string];
  return toBinary(
    CheckRequestSchema,
    create(CheckRequestSchema, {
      attributes: { request: { http: { method, path, host: "api.example.com", headers: { authorization: `Bearer ${token}` } } } },
    }),
  );
}

/** An Authorize with a token never seen before in every request (the load client writes it). */
export function unknownTokenTarget(): Omit<LoadTarget, "url"> {
  return { path: AUTHORIZE, headers: GRPC, bodies: [grpcFrame(authorize(`pcl_${FRESH_TOKEN}`))], freshToken: FRESH_TOKEN };
}

export function rawNoOpScenario(perRequestBodies: boolean): Scenario {
  return {
    name: "raw-noop",
    description: "raw node:http2 no-op, gRPC framed by hand (the baseline)",
    host: "raw",
    perRequestBodies,
    // The same bytes as authorize-redis-opaque, so the transport carries the same load.
    target: (credentials) => ({ path: "/bench.v1.Noop/Ping", headers: GRPC, bodies: [grpcFrame(authorize(credentials.redisOpaque))] }),
  };
}

export function benchScenarios(): Scenario[] {
  const grpcAuthorize = (token: string) => ({ path: AUTHORIZE, headers: GRPC, bodies: [grpcFrame(authorize(token))] });
  const unknown = unknownTokenTarget().bodies[0]!;
  return [
    {
      name: "check-redis-opaque",
      description: "Envoy Check, gRPC, opaque token, Redis store",
      host: "redis",
      perRequestBodies: false,
      target: (credentials) => ({ path: CHECK, headers: GRPC, bodies: [grpcFrame(check(credentials.redisOpaque))] }),
      allowShare: 1,
    },
    {
      name: "authorize-redis-opaque",
      description: "Authorize, gRPC, opaque token, Redis store",
      host: "redis",
      perRequestBodies: false,
      target: (credentials) => grpcAuthorize(credentials.redisOpaque),
      allowShare: 1,
    },
    {
      name: "authorize-redis-jwt-rs256",
      description: "Authorize, gRPC, external RS256 JWT (warm JWKS), Redis store",
      host: "redis",
      perRequestBodies: false,
      target: (credentials) => grpcAuthorize(credentials.rs256),
      allowShare: 1,
    },
    {
      name: "authorize-redis-team-jwt",
      description: "Authorize, gRPC, team JWT minted through the API, Redis store",
      host: "redis",
      perRequestBodies: false,
      target: (credentials) => grpcAuthorize(credentials.teamJwt),
      allowShare: 1,
    },
    {
      name: "authorize-deny-unknown",
      description: "Authorize, gRPC, a fresh random opaque token per request (deny), Redis store",
      host: "redis",
      perRequestBodies: true,
      target: unknownTokenTarget,
      allowShare: 0,
    },
    {
      name: "authorize-mixed-80-20",
      description: "Authorize, gRPC, 4 known opaque tokens to 1 fresh unknown one, Redis store",
      host: "redis",
      perRequestBodies: true,
      target: (credentials) => ({
        path: AUTHORIZE,
        headers: GRPC,
        bodies: [...Array<Buffer>(4).fill(grpcFrame(authorize(credentials.redisOpaque))), unknown],
        freshToken: FRESH_TOKEN,
      }),
      allowShare: 0.8,
    },
    {
      name: "check-embedded-opaque",
      description: "Envoy Check, gRPC, opaque token, embedded store (reference)",
      host: "embedded",
      perRequestBodies: false,
      target: (credentials) => ({ path: CHECK, headers: GRPC, bodies: [grpcFrame(check(credentials.embeddedOpaque))] }),
      allowShare: 1,
    },
    {
      name: "authorize-connect-json",
      description: "Authorize, Connect JSON over HTTP/2 (connect-node), opaque token, Redis store (reference)",
      host: "redis",
      perRequestBodies: false,
      target: (credentials) => ({
        path: AUTHORIZE,
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        bodies: [Buffer.from(JSON.stringify({ authorization: `Bearer ${credentials.redisOpaque}`, resource: BENCH_RESOURCE }))],
      }),
      allowShare: 1,
    },
  ];
}
