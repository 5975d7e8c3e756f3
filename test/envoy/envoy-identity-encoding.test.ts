import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvoyClient, headerNamed, upstreamHeaders, type EnvoyClient } from "../support/envoy-client.js";
import { startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";
import { JWT_AUDIENCE } from "../support/jwt-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";

/** What an upstream behind Envoy does with an identity header, as README describes: split at ",", percent-decode each entry. */
const decodedList = (value: string) => value.split(",").map(decodeURIComponent);

describe("identity headers for JWT subjects and scopes of any text, through Check", () => {
  const idp = new OidcProvider("oidc");
  let key: TestKey;
  let fixture: EnvoyFixture;
  let envoy: EnvoyClient;
  beforeAll(async () => {
    key = await generateTestKey("ES256", "ec-encoding");
    await idp.start();
    idp.publish(key);
    fixture = await startEnvoyFixture({
      config: { jwt: { issuers: [{ issuer: idp.issuer, alias: "idp", audiences: [JWT_AUDIENCE], libraries_claim: "libs" }] } },
    });
    envoy = createEnvoyClient(fixture.server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await fixture?.server.stop();
    await idp.stop();
  });

  const check = async (claims: object) => {
    const jwt = await idp.sign(key, { aud: JWT_AUDIENCE, ...claims });
    const incoming = { authorization: `Bearer ${jwt}`, "x-auth-subject": "spoofed" };
    const response = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers: incoming });
    return { response, upstream: upstreamHeaders(incoming, response.ok_response!) };
  };

  it("hands on a subject with non-ASCII text and '%', and scopes holding ',', so the upstream decodes them exactly", async () => {
    const { response, upstream } = await check({
      sub: "café 100% caf%C3%A9",
      scp: ["kafka:read", "read,admin"],
      libs: ["lib ä", "x,y"],
    });
    expect(response.status?.code).toBe(0);
    expect(upstream["x-auth-subject"]).toBe("jwt:idp:caf%C3%A9%20100%25%20caf%25C3%25A9");
    expect(upstream["x-auth-scopes"]).toBe("kafka:read,read%2Cadmin");
    expect(decodedList(upstream["x-auth-subject"]!)).toEqual(["jwt:idp:café 100% caf%C3%A9"]);
    expect(decodedList(upstream["x-auth-scopes"]!)).toEqual(["kafka:read", "read,admin"]);
    expect(decodedList(upstream["x-auth-libraries"]!)).toEqual(["lib ä", "x,y"]);
  });

  it("answers a validly signed token whose subject holds a lone surrogate with a decision, not INTERNAL", async () => {
    const { response } = await check({ sub: "agent-\uD800", scp: ["kafka:read"] });
    expect(response.status?.code).toBe(0);
    expect(headerNamed(response.ok_response!.headers, "x-auth-subject")?.header.value).toBe("jwt:idp:agent-%EF%BF%BD");
  });
});
