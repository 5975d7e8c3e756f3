import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { eventually } from "../support/eventually.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { authorizeVerdict, isAllow, type Verdict } from "./bad-input-harness.js";
import { isServing, leakedSecrets, probe } from "./replica-probes.js";
import { percentile, recordRow } from "./rows.js";

const AUDIENCE = "portcullis-api";
const ISSUER = "https://idp.reliability.test";
const RESOURCE = "GET /api/kafka/topics";
/**
 * The longest a decision may wait on the IdP: one JWKS fetch, whose limit is
 * 5 s (DEFAULT_JWKS_FETCH_LIMITS in src/credentials/jwt/jwks-key-source.ts).
 * The server does not read the caller's own deadline (grpc-timeout); a
 * gateway with a shorter one fails closed on its side.
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
