import { Code } from "@connectrpc/connect";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startClientFlow, startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";

const CLIENT = { clientId: "confidential", clientSecret: "confidential-secret-value", authMethod: "client_secret_basic" } as const;
const REDIRECT_URI = "http://127.0.0.1:9/oauth/callback";
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** One login at the local provider whose ID token carries `claims`, completed through Portcullis. */
async function login(provider: OAuthProvider, server: InProcessPortcullis, claims: JWTPayload) {
  const flow = createClients(server.url).oauthFlow;
  const auth = bearer(await server.rootToken());
  const started = await startClientFlow(flow, auth, provider, CLIENT, REDIRECT_URI);
  const { code, state } = await provider.authorize(started.authorizationUrl);
  provider.idTokenClaims = claims;
  try {
    return await flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth);
  } finally {
    provider.idTokenClaims = undefined;
  }
}

const refusal = async (completion: Promise<unknown>) => {
  const error = await rejectionOf(completion);
  return [error.code, error.rawMessage];
};

describe("ID token checks of the authorization-code flow (OIDC Core 3.1.3.7)", () => {
  let provider: OAuthProvider;
  let server: InProcessPortcullis;
  let strict: InProcessPortcullis;

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    // The local provider listens on loopback over plain http.
    const dev = { PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" };
    server = await startInProcess(dev);
    strict = await startInProcess({ ...dev, PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S: "0" });
  });
  afterAll(async () => {
    await server?.stop();
    await strict?.stop();
    await provider?.close();
  });

  it("accepts a token for several audiences whose azp is this client", async () => {
    const completed = await login(provider, server, { aud: [CLIENT.clientId, "other"], azp: CLIENT.clientId });
    expect(completed.subject).toBe("user-42");
  });

  it("rejects a token for several audiences that was issued to another of them (azp)", async () => {
    expect(await refusal(login(provider, server, { aud: [CLIENT.clientId, "other"], azp: "other" }))).toEqual([
      Code.FailedPrecondition,
      "id_token_invalid: claim azp does not match",
    ]);
  });

  it("rejects a token for several audiences without azp", async () => {
    expect(await refusal(login(provider, server, { aud: [CLIENT.clientId, "other"] }))).toEqual([
      Code.FailedPrecondition,
      "id_token_invalid: claim azp missing",
    ]);
  });

  it("rejects a token for this client alone whose azp names another party", async () => {
    expect(await refusal(login(provider, server, { azp: "other" }))).toEqual([
      Code.FailedPrecondition,
      "id_token_invalid: claim azp does not match",
    ]);
  });

  it("accepts a token from a provider whose clock runs two seconds ahead", async () => {
    const ahead = nowSeconds() + 2;
    const completed = await login(provider, server, { iat: ahead, nbf: ahead, exp: ahead + 300 });
    expect(completed.subject).toBe("user-42");
  });

  it("rejects a token not yet valid beyond the leeway", async () => {
    const ahead = nowSeconds() + 120;
    expect(await refusal(login(provider, server, { iat: ahead, nbf: ahead, exp: ahead + 300 }))).toEqual([
      Code.FailedPrecondition,
      "id_token_invalid: claim nbf does not match",
    ]);
  });

  it("takes the leeway from PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S: with 0, two seconds ahead is too early", async () => {
    const ahead = nowSeconds() + 2;
    expect(await refusal(login(provider, strict, { iat: ahead, nbf: ahead, exp: ahead + 300 }))).toEqual([
      Code.FailedPrecondition,
      "id_token_invalid: claim nbf does not match",
    ]);
  });
});
