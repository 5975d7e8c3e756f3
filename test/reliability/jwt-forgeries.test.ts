import { createHmac, createPublicKey, KeyObject, sign } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { authorizeVerdict, checkVerdict, echoedInputs, isAllow, leakedCredentials, type Verdict } from "./bad-input-harness.js";
import { isServing, probe } from "./replica-probes.js";
import { recordRow } from "./rows.js";

const AUDIENCE = "portcullis-api";
/** src/observability/decision-recorder.ts cuts logged request input here. */
const LOGGED_INPUT_LENGTH = 256;

const b64 = (text: string) => Buffer.from(text).toString("base64url");

/** A host that counts every request: where jku and x5u point, so any fetch shows. */
async function startTrap(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_request, response) => {
    hits++;
    response.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Forgery {
  name: string;
  token: string;
  /**
   * The reason both transports must deny it with; `ok` for the few the
   * issuer itself signed that RFC 7519 calls valid (they show where the line is).
   */
  reason: string;
}

describe("forged and malformed JWTs through Authorize and Check", () => {
  const writeConfig = configFileWriter();
  const idp = new OidcProvider("oidc");
  let issuerKey: TestKey;
  let attackerKey: TestKey;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  let server: PortcullisProcess;
  let clients: Clients;
  let envoy: EnvoyClient;

  beforeAll(async () => {
    issuerKey = await generateTestKey("RS256", "issuer-1");
    attackerKey = await generateTestKey("RS256", "attacker-1");
    await idp.start();
    idp.publish(issuerKey);
    trap = await startTrap();
    const config = writeConfig(
      stringify({ policy: TEST_POLICY, envoy: { realm: "example" }, jwt: { issuers: [{ issuer: idp.issuer, alias: "idp", audiences: [AUDIENCE] }] } }),
    );
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_LOG_LEVEL: "info" } });
    clients = createClients(server.url);
    envoy = createEnvoyClient(server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
    await idp.stop();
    await trap?.close();
  });

  function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return { iss: idp.issuer, aud: AUDIENCE, sub: "mallory", iat: now, exp: now + 300, scope: "kafka:read", ...extra };
  }
  /** A compact JWS from header and payload text exactly as given, signed by `signer` (or with the given signature). */
  function compact(header: string, payload: string, signer: ((input: string) => Buffer) | string): string {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${typeof signer === "string" ? signer : signer(input).toString("base64url")}`;
  }
  const rs256 = (key: TestKey) => (input: string) => sign("sha256", Buffer.from(input), KeyObject.from(key.privateKey));
  const hs256 = (secret: string | Buffer) => (input: string) => createHmac("sha256", secret).update(input).digest();
  const header = (extra: Record<string, unknown> = {}) => JSON.stringify({ alg: "RS256", kid: issuerKey.kid, typ: "JWT", ...extra });
  const body = (extra: Record<string, unknown> = {}) => JSON.stringify(claims(extra));

  function corpus(): Forgery[] {
    const issuerPem = createPublicKey({ key: issuerKey.publicJwk as import("node:crypto").JsonWebKey, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString();
    const issuerJwkText = JSON.stringify(issuerKey.publicJwk);
    const good = compact(header(), body(), rs256(issuerKey));
    const forgeries: Forgery[] = [];
    for (const alg of ["none", "None", "NONE", "nOnE", "NoNe"]) {
      forgeries.push({ name: `alg ${alg}, no signature`, token: compact(header({ alg }), body(), ""), reason: "alg_none" });
      forgeries.push({ name: `alg ${alg}, a signature`, token: compact(header({ alg }), body(), "c2lnbmF0dXJl"), reason: "alg_none" });
    }
    const confusion: [string, string | Buffer][] = [
      ["the issuer's PEM", issuerPem],
      ["the issuer's PEM without its last newline", issuerPem.trimEnd()],
      ["the issuer's JWK as JSON", issuerJwkText],
      ["the issuer's modulus", String(issuerKey.publicJwk.n)],
      ["the issuer's DER", createPublicKey(issuerPem).export({ type: "spki", format: "der" })],
    ];
    for (const [what, secret] of confusion) {
      forgeries.push({ name: `HS256 keyed with ${what}`, token: compact(header({ alg: "HS256" }), body(), hs256(secret)), reason: "alg_not_allowed" });
    }
    forgeries.push(
      { name: "crit naming an unknown extension", token: compact(header({ crit: ["x-unknown"], "x-unknown": 1 }), body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "crit naming exp", token: compact(header({ crit: ["exp"] }), body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "jku at the attacker's JWKS, the attacker's kid", token: compact(JSON.stringify({ alg: "RS256", kid: attackerKey.kid, jku: `${trap.url}/jwks` }), body(), rs256(attackerKey)), reason: "unknown_key" },
      { name: "jku at the attacker's JWKS, the issuer's kid", token: compact(header({ jku: `${trap.url}/jwks` }), body(), rs256(attackerKey)), reason: "bad_signature" },
      { name: "x5u at the attacker's certificate", token: compact(JSON.stringify({ alg: "RS256", kid: attackerKey.kid, x5u: `${trap.url}/cert.pem` }), body(), rs256(attackerKey)), reason: "unknown_key" },
      { name: "an embedded jwk of the attacker's, no kid", token: compact(JSON.stringify({ alg: "RS256", jwk: attackerKey.publicJwk }), body(), rs256(attackerKey)), reason: "bad_signature" },
      { name: "an embedded jwk of the attacker's, the issuer's kid", token: compact(header({ jwk: attackerKey.publicJwk }), body(), rs256(attackerKey)), reason: "bad_signature" },
      { name: "the issuer's kid, the attacker's signature", token: compact(header(), body(), rs256(attackerKey)), reason: "bad_signature" },
      { name: "a valid token with its signature cut off", token: good.slice(0, good.lastIndexOf(".") + 1), reason: "bad_signature" },
      { name: "kid empty", token: compact(header({ kid: "" }), body(), rs256(issuerKey)), reason: "bad_kid" },
      { name: "kid 300 characters", token: compact(header({ kid: "k".repeat(300) }), body(), rs256(issuerKey)), reason: "bad_kid" },
      { name: "kid a path", token: compact(header({ kid: "../../../../etc/passwd" }), body(), rs256(issuerKey)), reason: "unknown_key" },
      { name: "kid with a NUL", token: compact(header({ kid: "issuer-1\u0000" }), body(), rs256(issuerKey)), reason: "bad_kid" },
      { name: "kid a number", token: compact(header({ kid: 1 }), body(), rs256(issuerKey)), reason: "bad_kid" },
      { name: "kid an object", token: compact(header({ kid: { $ne: null } }), body(), rs256(issuerKey)), reason: "bad_kid" },
      { name: "kid an SQL injection", token: compact(header({ kid: "' OR '1'='1" }), body(), rs256(issuerKey)), reason: "unknown_key" },
      { name: "exp a string", token: compact(header(), body({ exp: "9999999999" }), rs256(issuerKey)), reason: "bad_claim" },
      { name: "exp in the past", token: compact(header(), body({ exp: 1000 }), rs256(issuerKey)), reason: "token_expired" },
      { name: "exp 1e300, signed by the issuer (valid: no lifetime cap on external tokens)", token: compact(header(), body({ exp: 1e300 }), rs256(issuerKey)), reason: "ok" },
      { name: "nbf in the future", token: compact(header(), body({ nbf: Math.floor(Date.now() / 1000) + 3600 }), rs256(issuerKey)), reason: "token_not_yet_valid" },
      { name: "iat in the future", token: compact(header(), body({ iat: Math.floor(Date.now() / 1000) + 3600 }), rs256(issuerKey)), reason: "iat_in_future" },
      { name: "aud a number", token: compact(header(), body({ aud: 7 }), rs256(issuerKey)), reason: "wrong_audience" },
      { name: "aud someone else's", token: compact(header(), body({ aud: "another-api" }), rs256(issuerKey)), reason: "wrong_audience" },
      { name: "iss an array", token: compact(header(), body({ iss: [idp.issuer] }), rs256(issuerKey)), reason: "unknown_issuer" },
      { name: "sub an object", token: compact(header(), body({ sub: { id: 1 } }), rs256(issuerKey)), reason: "bad_claim" },
      { name: "scope a number", token: compact(header(), body({ scope: 42 }), rs256(issuerKey)), reason: "bad_claim" },
      { name: "no exp", token: compact(header(), JSON.stringify({ ...claims(), exp: undefined }), rs256(issuerKey)), reason: "missing_claim" },
      // Two members of one name read one way to JSON.parse (the last) and another to a parser that keeps the first: refused unread.
      { name: "duplicate alg in the header (RS256, then none)", token: compact(`{"alg":"RS256","kid":"${issuerKey.kid}","alg":"none"}`, body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "duplicate alg in the header (none, then RS256)", token: compact(`{"alg":"none","kid":"${issuerKey.kid}","alg":"RS256"}`, body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "duplicate kid in the header, one spelt with an escape", token: compact(`{"alg":"RS256","kid":"${attackerKey.kid}","\\u006bid":"${issuerKey.kid}"}`, body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "duplicate aud in the payload, the last one ours, signed by the issuer", token: compact(header(), body().replace(/^\{/, `{"aud":"another-api",`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "duplicate aud in the payload, the last one someone else's", token: compact(header(), body().replace(/\}$/, `,"aud":"another-api"}`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "two sub claims, signed by the issuer", token: compact(header(), body().replace(/\}$/, `,"sub":"root"}`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "two exp claims, the first long past, signed by the issuer", token: compact(header(), body().replace(/^\{/, `{"exp":1000,`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "two scope claims, the second spelt with escapes, signed by the issuer", token: compact(header(), body().replace(/\}$/, `,"\\u0073\\u0063ope":"*"}`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "a duplicate member nested inside a claim, signed by the issuer", token: compact(header(), body({ ext: { role: "reader" } }).replace(/\}\}$/, `,"role":"admin"}}`), rs256(issuerKey)), reason: "bad_claim" },
      { name: "a nested JWT (cty JWT)", token: compact(header({ cty: "JWT" }), good, rs256(issuerKey)), reason: "bad_jwt_payload" },
      { name: "JWE-shaped (five parts; not a JWS, so looked up as an opaque token)", token: `${b64('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.${b64("key")}.${b64("iv")}.${b64("ciphertext")}.${b64("tag")}`, reason: "unknown_token" },
      { name: "four parts", token: `${good}.extra`, reason: "unknown_token" },
      { name: "a header that is not JSON", token: compact("not json", body(), rs256(issuerKey)), reason: "bad_jwt_header" },
      { name: "a payload that is a JSON array", token: compact(header(), "[1,2,3]", rs256(issuerKey)), reason: "bad_jwt_payload" },
      { name: "a header with 1,000 members (over the Authorization limit)", token: compact(header(Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`h${index}`, index]))), body(), rs256(issuerKey)), reason: "credential_too_long" },
      { name: "a 5,600-character claim, just under the Authorization limit, signed by the issuer", token: compact(header(), body({ pad: "p".repeat(5600) }), rs256(issuerKey)), reason: "ok" },
      { name: "a token over the Authorization limit", token: compact(header(), body({ pad: "p".repeat(9000) }), rs256(issuerKey)), reason: "credential_too_long" },
    );
    return forgeries;
  }

  it("denies every forgery with its specific reason on both transports, fetches nothing, echoes nothing and stays healthy", async () => {
    const forgeries = corpus();
    const results: { name: string; authorize: Verdict; check: Verdict; expected: Verdict }[] = [];
    for (const forgery of forgeries) {
      const authorize = await authorizeVerdict(clients, { authorization: `Bearer ${forgery.token}`, resource: "GET /api/kafka/topics" });
      const check = await checkVerdict(envoy, { method: "GET", path: "/api/kafka/topics", headers: { authorization: `Bearer ${forgery.token}` } });
      results.push({ name: forgery.name, authorize, check, expected: forgery.reason === "ok" ? "allow:ok" : (`deny:${forgery.reason}` as const) });
    }
    const good = compact(header(), body(), rs256(issuerKey));
    const goodVerdict = await authorizeVerdict(clients, { authorization: `Bearer ${good}`, resource: "GET /api/kafka/topics" });
    const output = server.output();
    const wrongful = results.filter((result) => !isAllow(result.expected) && (isAllow(result.authorize) || isAllow(result.check))).length;
    const leaked = leakedCredentials(output, [...forgeries.map((forgery) => forgery.token), good]).length + echoedInputs(output, forgeries.map((forgery) => forgery.token), LOGGED_INPUT_LENGTH).length;

    const mismatches = results.filter((result) => result.authorize !== result.expected || result.check !== result.expected);
    if (mismatches.length > 0) console.info(mismatches);
    recordRow({
      test: "Bad inputs: forged and malformed JWTs (Authorize and Check)",
      operations: results.length * 2 + 1,
      faults: 0,
      badInputs: forgeries.filter((forgery) => forgery.reason !== "ok").length * 2,
      wrongfulAllows: wrongful,
      tokensLost: 0,
      secretsLeaked: leaked,
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    expect(mismatches).toEqual([]);
    expect(trap.hits()).toBe(0);
    expect(goodVerdict).toBe("allow:ok");
    expect(isServing(await probe(server.url))).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
