import { execFileSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialType, Decision, Denial } from "../../../gen/portcullis/v1/authorization_pb.js";
import { createClients, type Clients } from "../../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { generateTestKey, OidcProvider, type TestKey } from "../../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";

describe("JWTs from external OIDC issuers", () => {
  const main = new OidcProvider("oidc");
  const tenant = new OidcProvider("rfc8414", "/tenant-a");
  const flaky = new OidcProvider("oidc");
  const busy = new OidcProvider("oidc");
  const outside = new OidcProvider("oidc");
  // Amazon Cognito's issuers have a user-pool path and publish base64 kids.
  const cognito = new OidcProvider("oidc", "/us-east-1_AbCdEf123");
  let keys: Record<"rsa" | "ec" | "ed" | "tenant" | "flaky" | "busy", TestKey>;
  let server: InProcessPortcullis;
  let clients: Clients;

  beforeAll(async () => {
    keys = {
      rsa: await generateTestKey("RS256", "rsa-1"),
      ec: await generateTestKey("ES256", "ec-1"),
      ed: await generateTestKey("EdDSA", "ed-1"),
      tenant: await generateTestKey("PS256", "tenant-1"),
      flaky: await generateTestKey("ES256", "flaky-1"),
      busy: await generateTestKey("ES256", "busy-1"),
    };
    for (const provider of [main, tenant, flaky, busy, outside, cognito]) await provider.start();
    main.publish(keys.rsa, keys.ec, keys.ed);
    tenant.publish(keys.tenant);
    flaky.publish(keys.flaky);
    busy.publish(keys.busy);
    // Every provider listens on 127.0.0.1, so each needs an alias of its own.
    const issuer = (provider: OidcProvider, alias: string, extra: object = {}) => ({ issuer: provider.issuer, alias, audiences: [AUDIENCE], ...extra });
    server = await startInProcess({
      PORTCULLIS_JWT_ISSUERS: JSON.stringify([
        issuer(main, "main", { libraries_claim: "libs" }),
        issuer(tenant, "tenant"),
        issuer(flaky, "flaky"),
        issuer(busy, "busy", { jwks_min_refresh_interval_s: 0 }),
        { issuer: outside.issuer, alias: "outside", jwks_uri: outside.jwksUri, audiences: "any" },
        { issuer: "http://127.0.0.1:9/never-there", alias: "never-there", audiences: [AUDIENCE] },
        issuer(cognito, "cognito", { jwks_min_refresh_interval_s: 0 }),
      ]),
    });
    clients = createClients(server.url);
  });

  afterAll(async () => {
    await server?.stop();
    for (const provider of [main, tenant, flaky, busy, outside, cognito]) await provider.stop();
  });

  const authorize = (token: string, requiredScope = "kafka:read") =>
    clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/kafka/topics", requiredScope });

  it.each([
    ["RS256", "rsa", { scope: "kafka:read kafka:write" }],
    ["ES256", "ec", { scp: ["kafka:read"] }],
    ["EdDSA", "ed", { scp: "kafka:read" }],
  ] as const)("allows a %s token found by OIDC discovery, with its scopes", async (_alg, key, scopes) => {
    const token = await main.sign(keys[key], { aud: AUDIENCE, ...scopes, libs: ["lib-a"] });
    const response = await authorize(token);
    expect([response.decision, response.reason]).toEqual([Decision.ALLOW, "ok"]);
    expect(response.scopes).toContain("kafka:read");
    expect(response.libraries).toEqual(["lib-a"]);
    expect(response.principal).toMatchObject({ subject: "jwt:main:user-1", issuer: "main", credentialType: CredentialType.JWT });
  });

  it("merges scopes from both scope and scp and denies a scope in neither", async () => {
    const token = await main.sign(keys.rsa, { aud: AUDIENCE, scope: "a:read", scp: ["b:write"] });
    expect((await authorize(token, "a:read")).decision).toBe(Decision.ALLOW);
    expect((await authorize(token, "b:write")).decision).toBe(Decision.ALLOW);
    const denied = await authorize(token, "c:admin");
    expect([denied.decision, denied.denial, denied.reason]).toEqual([Decision.DENY, Denial.FORBIDDEN, "insufficient_scope"]);
  });

  it("finds the keys of an issuer with a path through RFC 8414 metadata when OIDC discovery is missing", async () => {
    const token = await tenant.sign(keys.tenant, { aud: AUDIENCE, scope: "kafka:read" });
    expect((await authorize(token)).decision).toBe(Decision.ALLOW);
  });

  it("accepts a token signed by the openssl command line tool, from an issuer with a configured jwks_uri", async () => {
    const dir = await mkdtemp(join(tmpdir(), "openssl-jwt-"));
    // The directory holds a private key: it goes whatever happens.
    try {
      const keyPath = join(dir, "key.pem");
      execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyPath], {
        stdio: "ignore",
      });
      const publicJwk = createPublicKey(await readFile(keyPath)).export({ format: "jwk" });
      const opensslKey = { kid: "openssl-1", alg: "RS256", publicJwk: { ...publicJwk, kid: "openssl-1", alg: "RS256", use: "sig" } };
      outside.publish(opensslKey as TestKey);
      const now = Math.floor(Date.now() / 1000);
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const signingInput = `${encode({ alg: "RS256", kid: "openssl-1", typ: "JWT" })}.${encode({
        iss: outside.issuer,
        sub: "openssl-user",
        scope: "kafka:read",
        iat: now,
        exp: now + 300,
      })}`;
      await writeFile(join(dir, "input"), signingInput);
      const signature = execFileSync("openssl", ["dgst", "-sha256", "-sign", keyPath, join(dir, "input")]);
      const response = await authorize(`${signingInput}.${signature.toString("base64url")}`);
      expect([response.decision, response.reason, response.principal?.subject]).toEqual([Decision.ALLOW, "ok", "jwt:outside:openssl-user"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(["abcd/EF+gh1234=", "__proto__", "constructor", "key id with spaces"])(
    "verifies a token whose kid %s names a key its issuer publishes",
    async (kid) => {
      const key = await generateTestKey("RS256", kid);
      const decoy = await generateTestKey("RS256", `${kid}x`);
      cognito.publish(decoy, key);
      const response = await authorize(await cognito.sign(key, { aud: AUDIENCE, scope: "kafka:read" }));
      expect([response.decision, response.reason]).toEqual([Decision.ALLOW, "ok"]);
    },
  );

  it("matches a kid exactly: one that differs in case or by a character finds no key", async () => {
    const key = await generateTestKey("RS256", "abcd/EF+gh1234=");
    cognito.publish(key);
    for (const kid of ["abcd/ef+gh1234=", "abcd/EF+gh1234", " abcd/EF+gh1234="]) {
      const response = await authorize(await cognito.sign(key, { aud: AUDIENCE, scope: "kafka:read" }, { kid }));
      expect([kid, response.decision, response.reason]).toEqual([kid, Decision.DENY, "unknown_key"]);
    }
  });

  it("picks up a rotated key (new kid) without a restart", async () => {
    const rotated = await generateTestKey("ES256", "ec-2");
    main.publish(keys.rsa, rotated);
    const fetchesBefore = main.jwksFetches;
    const response = await authorize(await main.sign(rotated, { aud: AUDIENCE, scope: "kafka:read" }));
    expect(response.decision).toBe(Decision.ALLOW);
    expect(main.jwksFetches).toBe(fetchesBefore + 1);
  });

  it("keeps verifying with cached keys while the IdP is down, and denies an unknown kid with unknown_key", async () => {
    expect((await authorize(await flaky.sign(keys.flaky, { aud: AUDIENCE, scope: "kafka:read" }))).decision).toBe(Decision.ALLOW);
    await flaky.stop();
    const cached = await authorize(await flaky.sign(keys.flaky, { aud: AUDIENCE, scope: "kafka:read" }));
    expect([cached.decision, cached.reason]).toEqual([Decision.ALLOW, "ok"]);
    const stranger = await generateTestKey("ES256", "flaky-unknown");
    const unknown = await authorize(await flaky.sign(stranger, { aud: AUDIENCE, scope: "kafka:read" }));
    expect([unknown.decision, unknown.denial, unknown.reason]).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "unknown_key"]);
  });

  it("fetches the key set once for 100 concurrent requests that name a new kid", async () => {
    const fresh = await generateTestKey("ES256", "busy-2");
    busy.publish(keys.busy, fresh);
    busy.jwksDelayMs = 200;
    const token = await busy.sign(fresh, { aud: AUDIENCE, scope: "kafka:read" });
    const fetchesBefore = busy.jwksFetches;
    const responses = await Promise.all(Array.from({ length: 100 }, () => authorize(token)));
    expect(responses.every((response) => response.decision === Decision.ALLOW)).toBe(true);
    expect(busy.jwksFetches - fetchesBefore).toBe(1);
  });

  it("answers Unavailable, never a decision, when an issuer's keys were never fetched", async () => {
    const stranger = await generateTestKey("ES256", "k");
    const token = await main.sign(stranger, { iss: "http://127.0.0.1:9/never-there", aud: AUDIENCE, scope: "kafka:read" });
    const error = await authorize(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
  });
});
