import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { EXAMPLE_KEY } from "../support/dcr-fixtures.js";
import { eventually } from "../support/eventually.js";
import { startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const DCR_SECRET = "dcr-client-secret-LEAK-MARKER-7f3a91";
const REGISTRATION_TOKEN = "registration-access-LEAK-MARKER-52c0de";
const FLOW_SECRET = "flow-client-secret-LEAK-MARKER-e81b44";

describe("a server whose Redis answers writes with an error reply", () => {
  let redis: OwnRedis;
  let raw: Redis;
  let provider: OAuthProvider;
  let server: PortcullisProcess;

  beforeAll(async () => {
    redis = await startOwnRedis();
    provider = await startOAuthProvider([{ clientId: "leak-check", clientSecret: FLOW_SECRET, authMethod: "client_secret_basic" }]);
    server = await startPortcullisProcess({
      env: { REDIS_URL: redis.url, PORTCULLIS_REDIS_TIMEOUT_MS: "1000", PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" },
    });
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await server?.stop();
    await provider?.close();
    await redis?.dispose();
  });

  it("answers Unavailable and logs why, without the command's arguments (key material, client secrets)", async () => {
    const clients = createClients(server.url);
    const auth = bearer(await server.rootToken());
    // Our own redis-server: every write is refused with an OOM error reply.
    await raw.config("SET", "maxmemory-policy", "noeviction");
    await raw.config("SET", "maxmemory", "1");

    const failures = [
      await rejectionOf(clients.admin.createSigningKey({}, auth)),
      await rejectionOf(
        clients.dcr.putDcrResolution(
          {
            key: {
              issuer: EXAMPLE_KEY.issuer,
              upstreamId: EXAMPLE_KEY.upstreamId,
              redirectUri: EXAMPLE_KEY.redirectUri,
              scopeSet: { case: "scopes", value: { values: [...(EXAMPLE_KEY.scopes ?? [])] } },
            },
            resolution: {
              clientId: "client-123",
              clientSecret: DCR_SECRET,
              authorizationEndpoint: "https://idp.example.com/authorize",
              tokenEndpoint: "https://idp.example.com/token",
              registrationAccessToken: REGISTRATION_TOKEN,
            },
          },
          auth,
        ),
      ),
      await rejectionOf(clients.admin.mintToken({ scopes: ["kafka:read"] }, auth)),
      await rejectionOf(
        clients.oauthFlow.startAuthorization(
          {
            upstreamIssuer: provider.issuer,
            clientSource: { case: "client", value: { clientId: "leak-check", clientSecret: FLOW_SECRET } },
            redirectUri: "http://127.0.0.1:9/oauth/callback",
            scopes: ["openid"],
          },
          auth,
        ),
      ),
    ];
    expect(failures.map((failure) => failure.code)).toEqual([Code.Unavailable, Code.Unavailable, Code.Unavailable, Code.Unavailable]);
    // Internal causes never reach the wire.
    for (const failure of failures) expect(failure.rawMessage).not.toContain("OOM");

    // The server writes its log asynchronously and the pipe delivers it later than the answers.
    const warnings = () => server.output().split("\n").filter((line) => line.includes("redis unavailable"));
    await eventually(async () => warnings().length >= 4, 20_000);
    const output = server.output();
    expect(warnings().every((line) => line.includes("OOM"))).toBe(true);
    for (const secret of [DCR_SECRET, REGISTRATION_TOKEN, FLOW_SECRET]) {
      expect(output).not.toContain(secret);
      for (const failure of failures) expect(failure.rawMessage).not.toContain(secret);
    }
    expect(output).not.toContain('"args"');
    expect(output).not.toContain('"command"');
    expect(output).not.toContain("codeVerifier");
    expect(output).not.toContain('\\"secret\\"');
  });
});
