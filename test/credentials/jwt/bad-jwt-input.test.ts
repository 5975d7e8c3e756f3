import { createHmac, createPublicKey, KeyObject, randomBytes, sign as signBytes } from "node:crypto";
import { exportSPKI, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, Denial } from "../../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../../gen/portcullis/v1/signing_keys_pb.js";
import { bearer, createClients, type Clients } from "../../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { generateTestKey, OidcProvider, type TestKey } from "../../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";
const REQUEST_ISSUER = "orchestrator";
const REQUEST_SECRET = randomBytes(32);
const b64 = (value: string | object) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

describe("bad JWT input", () => {
  const idp = new OidcProvider("oidc");
  let key: TestKey;
  let server: InProcessPortcullis;
  let clients: Clients;
  /** The kid of a signing key Portcullis holds for team tokens. */
  let teamKid: string;

  beforeAll(async () => {
    key = await generateTestKey("RS256", "rsa-1");
    await idp.start();
    idp.publish(key);
    server = await startInProcess({
      PORTCULLIS_JWT_ISSUERS: JSON.stringify([{ issuer: idp.issuer, audiences: [AUDIENCE], leeway_s: 30 }]),
      PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([
        { issuer: REQUEST_ISSUER, jwk: { kty: "oct", k: REQUEST_SECRET.toString("base64url") }, audiences: "any", max_lifetime_s: 600 },
      ]),
    });
    clients = createClients(server.url);
    const created = await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, bearer(await server.rootToken()));
    teamKid = created.key!.kid;
  });

  afterAll(async () => {
    await server?.stop();
    await idp.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: object, header: Record<string, unknown> = {}) => idp.sign(key, { aud: AUDIENCE, scope: "kafka:read", ...claims }, header);
  const claimsOf = (extra: object = {}) => ({ iss: idp.issuer, sub: "u", aud: AUDIENCE, scope: "kafka:read", iat: now(), exp: now() + 300, ...extra });

  /** Signed by hand with the issuer's key: jose refuses to sign some of the headers these cases need. */
  const signedRaw = (header: Record<string, unknown>) => {
    const input = `${b64({ alg: "RS256", kid: key.kid, ...header })}.${b64(claimsOf())}`;
    return `${input}.${signBytes("sha256", Buffer.from(input), KeyObject.from(key.privateKey)).toString("base64url")}`;
  };

  /** Header and payload text exactly as given (two members of one name survive), signed by the issuer or with the per-request secret. */
  const signedText = (header: string, payload: string, by: "issuer" | "request" = "issuer") => {
    const input = `${b64(header)}.${b64(payload)}`;
    const signature =
      by === "issuer" ? signBytes("sha256", Buffer.from(input), KeyObject.from(key.privateKey)) : createHmac("sha256", REQUEST_SECRET).update(input).digest();
    return `${input}.${signature.toString("base64url")}`;
  };
  const requestClaimsText = () =>
    JSON.stringify({ iss: REQUEST_ISSUER, sub: "agent", jti: randomBytes(8).toString("hex"), iat: now(), exp: now() + 60, scope: "kafka:read", libs: [] });

  const requestToken = (claims: object, secret: Uint8Array = REQUEST_SECRET, header: Record<string, unknown> = {}) =>
    new SignJWT({ iss: REQUEST_ISSUER, sub: "agent", jti: randomBytes(8).toString("hex"), iat: now(), exp: now() + 60, scope: "kafka:read", libs: [], ...claims })
      .setProtectedHeader({ alg: "HS256", ...header })
      .sign(secret);

  /** A team token as Portcullis would issue it, but with a signature nobody made. */
  const forgedTeamToken = (header: object, claims: object) =>
    `${b64({ alg: "HS256", typ: "JWT", ...header })}.${b64({ iss: "portcullis", aud: "portcullis", typ: "team", jti: "j", iat: now(), exp: now() + 300, scope: "kafka:read", ...claims })}.${b64("not-a-signature")}`;

  const cases: [string, () => Promise<string>, string][] = [
    ["alg none", async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claimsOf())}.`, "alg_none"],
    [
      "HS256 signed with the issuer's RSA public key as the HMAC secret",
      async () => {
        const pem = await exportSPKI(createPublicKey({ key: key.publicJwk as never, format: "jwk" }) as never);
        return new SignJWT(claimsOf()).setProtectedHeader({ alg: "HS256", kid: key.kid }).sign(new TextEncoder().encode(pem));
      },
      "alg_not_allowed",
    ],
    ["an unknown kid", async () => sign({}, { kid: "nobody-knows-me" }), "unknown_key"],
    ["a kid with path characters, which is only a lookup key", async () => sign({}, { kid: "../../etc/passwd" }), "unknown_key"],
    ["a kid 1 KiB long", async () => sign({}, { kid: "k".repeat(1024) }), "bad_kid"],
    ["a kid with a control character", async () => sign({}, { kid: "rsa-1\n" }), "bad_kid"],
    ["a kid with a non-ASCII letter", async () => sign({}, { kid: "rsa-１" }), "bad_kid"],
    ["a kid that is not a string", async () => sign({}, { kid: 1 }), "bad_kid"],
    ["an expired token", async () => sign({ iat: now() - 600, exp: now() - 300 }), "token_expired"],
    ["a token not valid yet", async () => sign({ nbf: now() + 300 }), "token_not_yet_valid"],
    ["iat in the future beyond the leeway", async () => sign({ iat: now() + 120, exp: now() + 600 }), "iat_in_future"],
    ["a wrong iss", async () => sign({ iss: "https://evil.example" }), "unknown_issuer"],
    ["a wrong aud", async () => sign({ aud: "someone-else" }), "wrong_audience"],
    ["an ID token by its typ", async () => sign({}, { typ: "id+jwt" }), "wrong_token_type"],
    ["a security event token", async () => sign({}, { typ: "secevent+jwt" }), "wrong_token_type"],
    ["a logout token, typ with its application/ prefix", async () => sign({}, { typ: "application/logout+jwt" }), "wrong_token_type"],
    ["a typ that is not a string", async () => sign({}, { typ: 1 }), "wrong_token_type"],
    ["a per-request token typed as an ID token", async () => requestToken({}, REQUEST_SECRET, { typ: "id+jwt" }), "wrong_token_type"],
    ["a bad signature", async () => `${(await sign({})).slice(0, -6)}AAAAAA`, "bad_signature"],
    ["malformed base64url", async () => `${b64({ alg: "RS256" })}.${b64(claimsOf())}x.abc`, "malformed_jwt"],
    ["standard base64 (not base64url) in a segment", async () => `${b64({ alg: "RS256" })}.${b64(claimsOf())}.ab+/cd`, "malformed_jwt"],
    ["a header that is not JSON", async () => `${b64("{not json")}.${b64(claimsOf())}.abc`, "bad_jwt_header"],
    ["a header that is not an object", async () => `${b64(["RS256"])}.${b64(claimsOf())}.abc`, "bad_jwt_header"],
    ["a header whose crit names an extension nobody implements", async () => signedRaw({ crit: ["x-unknown"], "x-unknown": 1 }), "bad_jwt_header"],
    ["a header whose crit names a registered claim", async () => signedRaw({ crit: ["exp"] }), "bad_jwt_header"],
    ["a header without alg", async () => `${b64({ typ: "JWT" })}.${b64(claimsOf())}.abc`, "bad_jwt_header"],
    ["a payload that is not an object", async () => `${b64({ alg: "RS256", kid: key.kid })}.${b64("[1,2]")}.abc`, "bad_jwt_payload"],
    ["a token over the size cap", async () => sign({ padding: "x".repeat(9000) }), "credential_too_long"],
    ["exp that is not a number", async () => sign({ exp: "tomorrow" }), "bad_claim"],
    ["a subject that is an object", async () => sign({ sub: { id: 1 } }), "bad_claim"],
    ["no subject at all", async () => sign({ sub: undefined }), "missing_claim"],
    ["a token without exp (it would never expire)", async () => sign({ exp: undefined }), "missing_claim"],
    ["a per-request token signed with another secret", async () => requestToken({}, randomBytes(32)), "bad_signature"],
    ["a per-request token without jti", async () => requestToken({ jti: undefined }), "missing_claim"],
    ["a per-request token whose libs is not an array", async () => requestToken({ libs: { a: 1 } }), "bad_claim"],
    ["a per-request token living longer than allowed", async () => requestToken({ exp: now() + 3600 }), "lifetime_too_long"],
    ["a team token whose kid is constructor", async () => forgedTeamToken({ kid: "constructor" }, { sub: "team:abc" }), "unknown_key"],
    ["a team token whose kid is __proto__", async () => forgedTeamToken({ kid: "__proto__" }, { sub: "team:abc" }), "unknown_key"],
    ["a team token whose kid is toString", async () => forgedTeamToken({ kid: "toString" }, { sub: "team:abc" }), "unknown_key"],
    ["a team token for team:constructor", async () => forgedTeamToken({ kid: teamKid }, { sub: "team:constructor" }), "bad_signature"],
    ["a team token for team:__proto__", async () => forgedTeamToken({ kid: teamKid }, { sub: "team:__proto__" }), "bad_signature"],
    ["a team token for team:toString", async () => forgedTeamToken({ kid: teamKid }, { sub: "team:toString" }), "bad_signature"],
    ["an external token whose kid is constructor", async () => sign({}, { kid: "constructor" }), "unknown_key"],
    ["an external token whose header names alg twice (none, then RS256)", async () => signedText(`{"alg":"none","kid":"${key.kid}","alg":"RS256"}`, JSON.stringify(claimsOf())), "bad_jwt_header"],
    ["an external token whose header names kid twice, once escaped", async () => signedText(`{"alg":"RS256","kid":"other","\\u006bid":"${key.kid}"}`, JSON.stringify(claimsOf())), "bad_jwt_header"],
    ["an external token naming sub twice", async () => signedText(JSON.stringify({ alg: "RS256", kid: key.kid }), JSON.stringify(claimsOf()).replace(/\}$/, ',"sub":"admin"}')), "bad_claim"],
    ["an external token naming a member twice inside a claim", async () => signedText(JSON.stringify({ alg: "RS256", kid: key.kid }), JSON.stringify(claimsOf({ ext: { a: 1 } })).replace(/\}\}$/, ',"a":2}}')), "bad_claim"],
    ["a per-request token naming exp twice", async () => signedText(JSON.stringify({ alg: "HS256" }), requestClaimsText().replace(/^\{/, `{"exp":${now() + 86_400},`), "request"), "bad_claim"],
    ["a team token naming sub twice", async () => `${b64({ alg: "HS256", typ: "JWT", kid: teamKid })}.${b64(`{"iss":"portcullis","aud":"portcullis","typ":"team","jti":"j","iat":${now()},"exp":${now() + 300},"sub":"team:a","sub":"team:b"}`)}.${b64("not-a-signature")}`, "bad_claim"],
    ["an external token whose alg is constructor", async () => `${b64({ alg: "constructor", kid: key.kid })}.${b64(claimsOf())}.${b64("not-a-signature")}`, "alg_not_allowed"],
  ];

  it.each([
    ["an external issuer's token", () => sign({})],
    ["an HS256 per-request token", () => requestToken({})],
  ])("allows %s that has none of these defects (the control)", async (_name, make) => {
    const response = await clients.authorization.authorize({
      authorization: `Bearer ${await make()}`,
      resource: "GET /api/kafka/topics",
      requiredScope: "kafka:read",
    });
    expect([response.decision, response.reason]).toEqual([Decision.ALLOW, "ok"]);
  });

  it.each([undefined, "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "application/jwt"])(
    "allows an external access token whose typ is %s",
    async (typ) => {
      const response = await clients.authorization.authorize({
        authorization: `Bearer ${await sign({}, { typ })}`,
        resource: "GET /api/kafka/topics",
        requiredScope: "kafka:read",
      });
      expect([response.decision, response.reason]).toEqual([Decision.ALLOW, "ok"]);
    },
  );

  it.each(cases)("denies %s as unauthenticated with its own reason, never a generic one", async (_name, make, reason) => {
    const token = await make();
    const response = await clients.authorization.authorize({
      authorization: `Bearer ${token}`,
      resource: "GET /api/kafka/topics",
      requiredScope: "kafka:read",
    });
    expect([response.decision, response.denial, response.reason]).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, reason]);
    expect(["invalid_token", "unknown_token"]).not.toContain(response.reason);
    expect(server.output()).not.toContain(token);
  });
});
