import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { freePort } from "../support/redis-server.js";
import { authorizeVerdict, isAllow } from "./bad-input-harness.js";
import { isServing, leakedSecrets, probe } from "./replica-probes.js";
import { percentile, recordRow, variant } from "./rows.js";
import { unknownSecret } from "./token-ledger.js";

const AUDIENCE = "portcullis-api";
const FLOOD_MS = variant() === "long" ? 120_000 : 8000;
const FLOOD_CONCURRENCY = 16;
/** jwks_min_refresh_interval_s as configured for the issuer. */
const MIN_REFRESH_S = 30;
/** Bounded memory: what a flood of distinct credentials may add, at most (the caches are bounded LRUs). */
const RSS_GROWTH_LIMIT_MB = 150;
const RESOURCE = "GET /api/kafka/topics";

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

describe("floods of unknown tokens and random kids beside valid traffic", () => {
  const writeConfig = configFileWriter();
  const idp = new OidcProvider("oidc");
  let issuerKey: TestKey;
  let attackerKey: TestKey;
  let server: PortcullisProcess;
  let clients: Clients;
  let reader: string;

  beforeAll(async () => {
    issuerKey = await generateTestKey("RS256", "issuer-1");
    attackerKey = await generateTestKey("RS256", "attacker");
    await idp.start();
    idp.publish(issuerKey);
    const root = `pcl_root_${randomBytes(24).toString("hex")}`;
    const config = writeConfig(
      stringify({
        policy: TEST_POLICY,
        envoy: { realm: "example" },
        jwt: { issuers: [{ issuer: idp.issuer, alias: "idp", audiences: [AUDIENCE], jwks_min_refresh_interval_s: MIN_REFRESH_S }] },
      }),
    );
    // At warn, a flood of denials writes no line per request; the start is then seen by /healthz on a known port.
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_ROOT_TOKENS: root, PORTCULLIS_LOG_LEVEL: "warn" }, port: await freePort() });
    clients = createClients(server.url);
    reader = (await clients.admin.mintToken({ scopes: ["kafka:read"], name: "reader" }, bearer(root))).token;
  });
  afterAll(async () => {
    await server?.stop();
    await idp.stop();
  });

  it("keeps valid decisions flowing, memory bounded and JWKS fetches rate-limited", async () => {
    const validJwt = await idp.sign(issuerKey, { aud: AUDIENCE, scope: "kafka:read" });
    // Warm: both valid credentials decided once, the key set fetched.
    expect(await authorizeVerdict(clients, { authorization: `Bearer ${reader}`, resource: RESOURCE })).toBe("allow:ok");
    expect(await authorizeVerdict(clients, { authorization: `Bearer ${validJwt}`, resource: RESOURCE })).toBe("allow:ok");
    const rssBefore = await rssMb(server.child.pid!);
    const fetchesBefore = idp.jwksFetches;

    const until = Date.now() + FLOOD_MS;
    let flood = 0;
    let wrongful = 0;
    const floodWorkers = Array.from({ length: FLOOD_CONCURRENCY }, async (_, worker) => {
      while (Date.now() < until) {
        flood++;
        const token = worker % 2 === 0 ? unknownSecret() : await idp.sign(attackerKey, { aud: AUDIENCE, scope: "kafka:read" }, { kid: randomBytes(9).toString("base64url") });
        if (isAllow(await authorizeVerdict(clients, { authorization: `Bearer ${token}`, resource: RESOURCE }))) wrongful++;
      }
    });
    const latencies: number[] = [];
    const validVerdicts: string[] = [];
    const validWorker = (async () => {
      while (Date.now() < until) {
        for (const token of [reader, validJwt]) {
          const started = Date.now();
          validVerdicts.push(await authorizeVerdict(clients, { authorization: `Bearer ${token}`, resource: RESOURCE }));
          latencies.push(Date.now() - started);
        }
      }
    })();
    await Promise.all([...floodWorkers, validWorker]);
    const rssAfter = await rssMb(server.child.pid!);
    const fetches = idp.jwksFetches - fetchesBefore;
    const allowedFetches = 1 + Math.ceil(FLOOD_MS / 1000 / MIN_REFRESH_S);

    recordRow({
      test: `Floods: unknown tokens and random kids, ${FLOOD_CONCURRENCY} callers for ${FLOOD_MS / 1000} s beside valid traffic`,
      operations: flood + validVerdicts.length,
      faults: 0,
      badInputs: flood,
      wrongfulAllows: wrongful,
      tokensLost: validVerdicts.filter((verdict) => verdict !== "allow:ok").length,
      secretsLeaked: leakedSecrets(server.output(), [reader, validJwt]),
      recoverySeconds: null,
      p99DuringFaultMs: percentile(latencies, 99),
    });
    console.info(`flood: ${flood} requests, RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB, ${fetches} JWKS fetches`);
    expect(validVerdicts.length).toBeGreaterThan(0);
    expect(validVerdicts.filter((verdict) => verdict !== "allow:ok")).toEqual([]);
    expect(fetches).toBeLessThanOrEqual(allowedFetches);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    expect(isServing(await probe(server.url))).toBe(true);
  });
});
