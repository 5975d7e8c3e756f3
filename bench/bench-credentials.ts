/**
 * The credentials the scenarios present, made the way production makes
 * them: opaque tokens and a team JWT minted through the admin API, an RS256
 * JWT signed by a real local IdP whose JWKS the server fetches.
 */
import type { JWK } from "jose";
import { bearer, type Clients } from "../test/support/clients.js";
import { JWT_AUDIENCE, teamTokens } from "../test/support/jwt-fixture.js";
import { generateTestKey, OidcProvider } from "../test/support/oidc-provider.js";

export const BENCH_SCOPE = "kafka:read";
export const BENCH_RESOURCE = "GET /api/kafka/topics";

/** The policy and trusted issuer every server under test runs with. */
export function benchConfig(idp: OidcProvider): object {
  return {
    policy: { rules: [{ name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET"], scope: BENCH_SCOPE }] },
    jwt: { issuers: [{ issuer: idp.issuer, alias: "bench-idp", audiences: [JWT_AUDIENCE] }] },
  };
}

export async function startBenchIdp(): Promise<{ idp: OidcProvider; publicJwk: JWK; signRs256: (lifetimeS: number) => Promise<string> }> {
  const idp = new OidcProvider("oidc");
  const key = await generateTestKey("RS256", "bench-rsa-1");
  await idp.start();
  idp.publish(key);
  const signRs256 = (lifetimeS: number) =>
    idp.sign(key, { aud: JWT_AUDIENCE, sub: "bench-user", scope: BENCH_SCOPE, exp: Math.floor(Date.now() / 1000) + lifetimeS });
  return { idp, publicJwk: key.publicJwk, signRs256 };
}

export async function mintOpaque(admin: Clients["admin"], root: string, name: string): Promise<{ token: string; tokenId: string }> {
  const minted = await admin.mintToken({ name, scopes: [BENCH_SCOPE] }, bearer(root));
  return { token: minted.token, tokenId: minted.record!.tokenId };
}

/** A team JWT minted through the API (its team's current token). */
export async function mintTeamJwt(url: string, root: string): Promise<string> {
  return (await teamTokens(url, root)).current;
}
