import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, type Clients } from "./clients.js";
import { generateTestKey, OidcProvider, type TestKey } from "./oidc-provider.js";

export const JWT_AUDIENCE = "portcullis-api";
export const REQUEST_ISSUER = "orchestrator";
/** How identities from the IdP are named: `jwt:idp:<sub>`; the orchestrator's alias is its issuer name. */
export const JWT_ISSUER_ALIAS = "idp";

/** JWTs for the tests, by role: good ones of every kind and one per defect. */
export interface JwtTestTokens {
  /** External RS256, scopes in `scope`, libraries in `libs`, with a jti. */
  jwtRs256: string;
  /** External ES256, scopes in `scp` as an array. */
  jwtEs256Scp: string;
  /** External ES256, scopes in `scp` as one space-separated string. */
  jwtScpString: string;
  /** External, only the generic tools scope. */
  jwtTools: string;
  jwtExpired: string;
  jwtWrongAudience: string;
  jwtUnknownIssuer: string;
  jwtUnknownKid: string;
  jwtAlgNone: string;
  jwtMalformed: string;
  jwtBadSignature: string;
  /** The team's current team token. */
  team: string;
  /** The team's previous team token, replaced by `team`. */
  teamRotated: string;
  /** Per-request token for tools, with its libraries in `libs`. */
  request: string;
}

export const JWT_SUBJECT = "alice@example.com";
export const REQUEST_SUBJECT = "agent-7";
export const TEAM_LIBRARIES = ["lib-t"];

/**
 * The JWT issuers a server under test trusts: a real OIDC provider on a
 * local port (found by discovery) and an orchestrator's per-request key.
 * Start it before the server, pass `config()` as the `jwt` section.
 */
export class JwtIssuers {
  readonly idp = new OidcProvider("oidc");
  private keys!: Record<"rsa" | "ec" | "request" | "stranger", TestKey>;

  async start(): Promise<void> {
    this.keys = {
      rsa: await generateTestKey("RS256", "rsa-1"),
      ec: await generateTestKey("ES256", "ec-1"),
      request: await generateTestKey("ES256", "orchestrator-1"),
      stranger: await generateTestKey("ES256", "nobody-knows-me"),
    };
    await this.idp.start();
    this.idp.publish(this.keys.rsa, this.keys.ec);
  }

  stop(): Promise<void> {
    return this.idp.stop();
  }

  config(): object {
    return {
      issuers: [{ issuer: this.idp.issuer, alias: JWT_ISSUER_ALIAS, audiences: [JWT_AUDIENCE], libraries_claim: "libs" }],
      request_issuers: [{ issuer: REQUEST_ISSUER, jwk: this.keys.request.publicJwk, audiences: "any", max_lifetime_s: 600 }],
    };
  }

  /** Signs the JWTs and mints the team tokens through the admin API of the server at `url`. */
  async tokens(url: string, root: string): Promise<{ tokens: JwtTestTokens; teamId: string }> {
    const { idp, keys } = this;
    const now = Math.floor(Date.now() / 1000);
    const external = (key: TestKey, claims: object, header: Record<string, unknown> = {}) =>
      idp.sign(key, { aud: JWT_AUDIENCE, sub: JWT_SUBJECT, ...claims }, header);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const good = await external(keys.rsa, { scope: "kafka:read reports:read", libs: ["lib-a"], jti: "jti-rs256" });
    const { teamId, current, previous } = await teamTokens(url, root);
    return {
      teamId,
      tokens: {
        jwtRs256: good,
        jwtEs256Scp: await external(keys.ec, { scp: ["kafka:read", "kafka:write"] }),
        jwtScpString: await external(keys.ec, { scp: "kafka:read kafka:write" }),
        jwtTools: await external(keys.ec, { scope: "tools:use" }),
        jwtExpired: await external(keys.rsa, { scope: "kafka:read", iat: now - 600, exp: now - 300 }),
        jwtWrongAudience: await external(keys.rsa, { scope: "kafka:read", aud: "someone-else" }),
        jwtUnknownIssuer: await external(keys.rsa, { scope: "kafka:read", iss: "https://evil.example" }),
        jwtUnknownKid: await external(keys.stranger, { scope: "kafka:read" }),
        jwtAlgNone: `${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: idp.issuer, aud: JWT_AUDIENCE, sub: JWT_SUBJECT, exp: now + 300 })}.`,
        jwtMalformed: `${b64({ alg: "RS256", kid: keys.rsa.kid })}.standard+base64/not+url.signature`,
        jwtBadSignature: `${good.slice(0, -6)}AAAAAA`,
        team: current,
        teamRotated: previous,
        request: await new SignJWT({ scope: "tools:search tools:use", libs: ["lib-r"] })
          .setProtectedHeader({ alg: "ES256", kid: keys.request.kid })
          .setIssuer(REQUEST_ISSUER)
          .setSubject(REQUEST_SUBJECT)
          .setJti(randomBytes(12).toString("base64url"))
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(keys.request.privateKey),
      },
    };
  }
}

/** A team with two team tokens minted one after the other: the second rotated the first out. */
export async function teamTokens(url: string, root: string): Promise<{ teamId: string; current: string; previous: string }> {
  const { admin } = createClients(url);
  const asRoot = bearer(root);
  await admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
  const { team } = await admin.createTeam({ name: "payments", libraries: TEAM_LIBRARIES }, asRoot);
  const teamId = team!.teamId;
  const mint = async () => (await mintTeamToken(admin, root, teamId)).token;
  const previous = await mint();
  return { teamId, previous, current: await mint() };
}

/** Mints a team token for `teamId` through `admin` (it replaces the team's previous one). */
export function mintTeamToken(admin: Clients["admin"], root: string, teamId: string) {
  return admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId, scopes: ["kafka:read"], name: "ci" }, bearer(root));
}

/** A new team with a team token, signed by a signing key made for it (the active key from then on). */
export async function teamWithToken(admin: Clients["admin"], root: string): Promise<{ teamId: string; token: string; tokenId: string; kid: string }> {
  const asRoot = bearer(root);
  const { key } = await admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
  const { team } = await admin.createTeam({ name: `team-${randomBytes(3).toString("hex")}`, libraries: ["lib-a"] }, asRoot);
  const minted = await mintTeamToken(admin, root, team!.teamId);
  return { teamId: team!.teamId, token: minted.token, tokenId: minted.record!.tokenId, kid: key!.kid };
}
