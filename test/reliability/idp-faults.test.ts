import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { ServiceError } from "@grpc/grpc-js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService, AuthorizeRequestSchema } from "../../gen/portcullis/v1/authorization_pb.js";
import { createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-grpc.js";
import { createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { eventually } from "../support/eventually.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { authorizeVerdict, checkVerdict, isAllow, type Verdict } from "./bad-input-harness.js";
import { isServing, leakedSecrets, probe } from "./replica-probes.js";
import { percentile, recordRow } from "./rows.js";

const AUDIENCE = "portcullis-api";
const ISSUER = "https://idp.reliability.test";
const RESOURCE = "GET /api/kafka/topics";
/**
 * The longest a decision may wait on the IdP when its caller sets no
 * deadline: one JWKS fetch, whose limit is 5 s (DEFAULT_JWKS_FETCH_LIMITS in
 * src/credentials/jwt/jwks-key-source.ts). A caller's shorter deadline ends
 * its wait sooner (the last test).
 */
const LONGEST_WAIT_MS = 5000;
const MIN_REFRESH_S = 1;
/** DEFAULT_JWKS_FETCH_LIMITS.maxBytes in src/credentials/jwt/jwks-key-source.ts. */
const JWKS_MAX_BYTES = 256 * 1024;

type Mode = "ok" | "down" | "slow" | "garbage" | "oversized" | "redirect" | "duplicate-kids";

/** A JWKS endpoint whose behaviour the test switches, counting every fetch. */
async function startJwksServer(keys: () => object[], redirectTo: () => string) {
  let mode: Mode = "ok";
  let fetches = 0;
  const server = http.createServer((request, response) => {
    fetches++;
    const json = (body: unknown) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    switch (mode) {
      case "ok":
        return json({ keys: keys() });
      case "down":
        return response.writeHead(503).end("down");
      case "slow":
        return void setTimeout(() => json({ keys: keys() }), 15_000).unref();
      case "garbage":
        return response.writeHead(200, { "content-type": "application/json" }).end('{"keys": [ {"kty": "RSA", "n": ');
      case "oversized":
        return json({ keys: keys(), padding: "x".repeat(JWKS_MAX_BYTES * 2) });
      case "redirect":
        return response.writeHead(302, { location: redirectTo() }).end();
      case "duplicate-kids":
        return json({ keys: keys() });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    set: (next: Mode) => void (mode = next),
    fetches: () => fetches,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("an external issuer whose JWKS endpoint fails", () => {
  const writeConfig = configFileWriter();
  const attackerIdp = new OidcProvider("oidc");
  let issuerKey: TestKey;
  let attackerKey: TestKey;
  let duplicateKey: TestKey;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let server: PortcullisProcess;
  let clients: Clients;
  let duplicates = false;

  beforeAll(async () => {
    issuerKey = await generateTestKey("RS256", "issuer-1");
    attackerKey = await generateTestKey("RS256", "attacker-1");
    duplicateKey = await generateTestKey("RS256", "issuer-1");
    await attackerIdp.start();
    attackerIdp.publish(attackerKey);
    jwks = await startJwksServer(
      () => (duplicates ? [issuerKey.publicJwk, duplicateKey.publicJwk] : [issuerKey.publicJwk]),
      () => attackerIdp.jwksUri,
    );
  });
  afterAll(async () => {
    await server?.stop();
    await jwks?.close();
    await attackerIdp.stop();
  });

  const sign = (key: TestKey, kid = key.kid) => attackerIdp.sign(key, { iss: ISSUER, aud: AUDIENCE, scope: "kafka:read" }, { kid });
  async function timed(token: string): Promise<{ verdict: Verdict; ms: number }> {
    const started = Date.now();
    const verdict = await authorizeVerdict(clients, { authorization: `Bearer ${token}`, resource: RESOURCE });
    return { verdict, ms: Date.now() - started };
  }

  it("starts with the JWKS down, keeps cached keys through later faults, never follows a redirect or trusts a duplicate kid, and fetches at a bounded rate", async () => {
    jwks.set("down");
    const config = writeConfig(
      stringify({
        policy: TEST_POLICY,
        envoy: { realm: "example" },
        jwt: { issuers: [{ issuer: ISSUER, jwks_uri: jwks.url, alias: "idp", audiences: [AUDIENCE], jwks_cache_ttl_s: 2, jwks_max_stale_s: 600, jwks_min_refresh_interval_s: MIN_REFRESH_S }] },
      }),
    );
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_LOG_LEVEL: "info" } });
    clients = createClients(server.url);
    const valid = await sign(issuerKey);
    const verdicts: { fault: string; verdict: Verdict; ms: number; mustDeny: boolean }[] = [];
    const ask = async (fault: string, token: string, mustDeny: boolean) => verdicts.push({ fault, mustDeny, ...(await timed(token)) });

    // Down at start: no key set at all, so the issuer's tokens are UNAVAILABLE, never allowed.
    await ask("down at start", valid, false);
    expect(verdicts.at(-1)!.verdict).toBe("error:Unavailable");
    jwks.set("ok");
    const upAt = Date.now();
    await eventually(async () => (await timed(valid)).verdict === "allow:ok", 20_000);
    const recoverySeconds = (Date.now() - upAt) / 1000;

    const faultStart = Date.now();
    let faults = 1;
    for (const mode of ["down", "slow", "garbage", "oversized", "redirect"] as const) {
      faults++;
      jwks.set(mode);
      // Past the cache lifetime, so the key set is refreshed while it fails.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      for (let round = 0; round < 2; round++) {
        await ask(mode, valid, false);
        await ask(mode, await sign(attackerKey), true);
        await ask(mode, await sign(issuerKey, `unknown-${round}`), true);
      }
      const fetchesBefore = jwks.fetches();
      const burstStarted = Date.now();
      await Promise.all(Array.from({ length: 100 }, async (_, index) => ask(`${mode} burst`, await sign(attackerKey, `random-${mode}-${index}`), true)));
      const burstSeconds = (Date.now() - burstStarted) / 1000;
      // One refresh per interval at most, and one already under way may finish.
      expect(jwks.fetches() - fetchesBefore).toBeLessThanOrEqual(2 + Math.ceil(burstSeconds / MIN_REFRESH_S));
    }
    const faultEnd = Date.now();

    faults++;
    duplicates = true;
    jwks.set("duplicate-kids");
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await eventually(async () => (await timed(await sign(duplicateKey))).verdict !== "error:Unavailable", 10_000);
    await ask("duplicate kids", await sign(duplicateKey), true);
    await ask("duplicate kids", valid, true);

    const wrongful = verdicts.filter((entry) => entry.mustDeny && isAllow(entry.verdict)).length;
    const cachedLost = verdicts.filter((entry) => !entry.mustDeny && entry.fault !== "down at start" && entry.verdict !== "allow:ok");
    recordRow({
      test: "IdP faults: JWKS down at start, down, slow, garbage, oversized, redirecting, duplicate kids",
      operations: verdicts.length,
      faults,
      badInputs: verdicts.filter((entry) => entry.mustDeny).length,
      wrongfulAllows: wrongful,
      tokensLost: cachedLost.length,
      secretsLeaked: leakedSecrets(server.output(), [valid]),
      recoverySeconds,
      p99DuringFaultMs: percentile(
        verdicts.filter((entry) => !entry.fault.startsWith("down at")).map((entry) => entry.ms),
        99,
      ),
    });
    expect(verdicts.filter((entry) => entry.ms > LONGEST_WAIT_MS + 1500).map((entry) => `${entry.fault}: ${entry.ms} ms`)).toEqual([]);
    expect(attackerIdp.jwksFetches).toBe(0);
    expect(faultEnd).toBeGreaterThan(faultStart);
    expect(isServing(await probe(server.url))).toBe(true);
  });
});

/** A JWKS endpoint that holds every request until released, counting them. */
async function startHeldJwks(keys: () => object[]) {
  let holding = false;
  let fetches = 0;
  const waiting: http.ServerResponse[] = [];
  const answer = (response: http.ServerResponse) =>
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: keys() }));
  const server = http.createServer((_request, response) => {
    fetches++;
    if (holding) waiting.push(response);
    else response.writeHead(503).end("down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    hold: () => void (holding = true),
    /** Requests held and not yet answered. */
    held: () => waiting.filter((response) => !response.writableEnded && !response.destroyed).length,
    release: () => {
      holding = false;
      for (const response of waiting.splice(0)) answer(response);
    },
    fetches: () => fetches,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Decision lines the server logged as ended by the caller's deadline, by transport. */
function deadlineLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.includes('"outcome":"deadline_exceeded"'))
    .map((line) => (JSON.parse(line) as { transport: string }).transport)
    .sort();
}

describe("an external issuer whose JWKS endpoint is slower than the caller's deadline", () => {
  const writeConfig = configFileWriter();
  const signer = new OidcProvider("oidc");
  /** Far beyond the callers' deadline, so the fetch is still held when they are answered, however slow the machine. */
  const FETCH_LIMIT_MS = 30_000;
  const DEADLINE_MS = 200;
  let issuerKey: TestKey;
  let jwks: Awaited<ReturnType<typeof startHeldJwks>>;
  let server: PortcullisProcess;
  let envoy: EnvoyClient;

  beforeAll(async () => {
    issuerKey = await generateTestKey("RS256", "issuer-1");
    jwks = await startHeldJwks(() => [issuerKey.publicJwk]);
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
    await jwks?.close();
  });

  it("answers each caller at its deadline on the lean path, Connect and Check (gRPC and Connect), never allows, fetches once and serves the key once the IdP answers", async () => {
    const config = writeConfig(
      stringify({
        policy: TEST_POLICY,
        envoy: { realm: "example" },
        jwt: { issuers: [{ issuer: ISSUER, jwks_uri: jwks.url, alias: "idp", audiences: [AUDIENCE], jwks_timeout_ms: FETCH_LIMIT_MS }] },
      }),
    );
    // Down at start: the startup fetch fails at once, so the first fetch a caller waits for is the held one.
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_LOG_LEVEL: "info" } });
    const clients = createClients(server.url);
    const connectTransport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const connect = createClient(AuthorizationService, connectTransport);
    const connectEnvoy = createClient(EnvoyAuthorization, connectTransport);
    const checked = { attributes: { request: { http: { method: "GET", path: "/api/kafka/topics", headers: { authorization: "" } } } } };
    envoy = createEnvoyClient(server.url);
    const token = await signer.sign(issuerKey, { iss: ISSUER, aud: AUDIENCE, scope: "kafka:read" }, { kid: issuerKey.kid });
    const request = { authorization: `Bearer ${token}`, resource: RESOURCE };
    checked.attributes.request.http.headers.authorization = request.authorization;
    // Each client connects first (a token of no known issuer needs no key), so its short deadline is spent on the server alone.
    const unknown = { authorization: `Bearer ${await signer.sign(issuerKey, { iss: "https://unknown.test", aud: AUDIENCE }, { kid: issuerKey.kid })}`, resource: RESOURCE };
    expect((await connect.authorize(unknown)).reason).toBe("unknown_issuer");
    expect((await connectEnvoy.check({ attributes: { request: { http: { method: "GET", path: "/api/kafka/topics", headers: { authorization: unknown.authorization } } } } })).status?.code).toBe(16);
    expect(await checkVerdict(envoy, { method: "GET", path: "/api/kafka/topics", headers: { authorization: unknown.authorization } })).toBe("deny:unknown_issuer");
    jwks.hold();
    const fetchesBefore = jwks.fetches();

    const [lean, viaConnect, check, checkViaConnect] = await Promise.all([
      // Framed by hand: the answer is the server's own, not a client giving up.
      rawGrpcCall(server.url, "/portcullis.v1.AuthorizationService/Authorize", grpcFrame(toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, request))), {
        "grpc-timeout": `${DEADLINE_MS}m`,
      }).then((reply) => `status:${reply.status}`),
      connect.authorize(request, { timeoutMs: DEADLINE_MS }).then(
        (answer) => `answer:${answer.reason}`,
        (error: unknown) => `error:${Code[ConnectError.from(error).code]}`,
      ),
      envoy.check({ method: "GET", path: "/api/kafka/topics", headers: { authorization: request.authorization } }, {}, { deadline: Date.now() + DEADLINE_MS }).then(
        (answer) => `answer:${answer.status?.code ?? 0}`,
        (error: ServiceError) => `error:${error.code}`,
      ),
      // Check as a Connect client sends it, served by connect-node.
      connectEnvoy.check(checked, { timeoutMs: DEADLINE_MS }).then(
        (answer) => `answer:${answer.status?.code ?? 0}`,
        (error: unknown) => `error:${Code[ConnectError.from(error).code]}`,
      ),
    ]);
    // Every caller was answered while the IdP still held the one fetch they waited for.
    const heldWhenAnswered = jwks.held();
    // The server itself stopped waiting for each: one decision line per caller, ended by its deadline, before the IdP answers.
    await eventually(async () => deadlineLines(server.output()).length === 4, 10_000);
    const heldWhenLogged = jwks.held();
    jwks.release();

    expect(lean).toBe("status:4");
    expect(viaConnect).toBe("error:DeadlineExceeded");
    expect(check).toBe("error:4");
    expect(checkViaConnect).toBe("error:DeadlineExceeded");
    expect(heldWhenAnswered).toBe(1);
    expect(heldWhenLogged).toBe(1);
    expect(deadlineLines(server.output())).toEqual(["authorize", "authorize", "envoy_check", "envoy_check"]);

    // The fetch the callers left went on: the next callers find the key without another one.
    const later: Verdict[] = [];
    await eventually(async () => (await authorizeVerdict(clients, request)) === "allow:ok", 10_000);
    later.push(await authorizeVerdict(clients, request));
    later.push(await connect.authorize(request, { timeoutMs: 10_000 }).then((answer) => `${answer.decision === 1 ? "allow" : "deny"}:${answer.reason}` as Verdict));
    later.push(await checkVerdict(envoy, { method: "GET", path: "/api/kafka/topics", headers: { authorization: request.authorization } }));
    expect(later).toEqual(["allow:ok", "allow:ok", "allow:ok"]);
    expect(jwks.fetches() - fetchesBefore).toBe(1);

    recordRow({
      test: "IdP faults: slow IdP with a caller deadline shorter than the fetch limit (lean gRPC, Connect, Check over gRPC and Connect)",
      operations: 4 + later.length,
      faults: 1,
      badInputs: 0,
      wrongfulAllows: [lean, viaConnect, check, checkViaConnect].filter((answer) => answer === "answer:ok" || answer === "answer:0" || answer === "status:0").length,
      tokensLost: later.filter((verdict) => verdict !== "allow:ok").length,
      secretsLeaked: leakedSecrets(server.output(), [token]),
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    expect(isServing(await probe(server.url))).toBe(true);
  });
});
