import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DcrKeySchema } from "../../gen/portcullis/v1/dcr_pb.js";
import { UPSTREAM_UNAVAILABLE } from "../../src/oauth/upstream-failure.js";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { closedPort, httpService, nonHttpService, type ProbeTarget } from "../support/probe-targets.js";

const CLIENT = { clientId: "public", authMethod: "none" } as const;
const REDIRECT_URI = "http://127.0.0.1:9/oauth/callback";
const DEV = { PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" };

const startRequest = (upstreamIssuer: string) => ({
  upstreamIssuer,
  clientSource: { case: "client" as const, value: { clientId: CLIENT.clientId } },
  redirectUri: REDIRECT_URI,
});

/** StartAuthorization over Connect's JSON protocol: the answer exactly as a caller receives it. */
async function rawStart(server: InProcessPortcullis, upstreamIssuer: string): Promise<string> {
  const response = await fetch(`${server.url}/portcullis.v1.OAuthFlowService/StartAuthorization`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await server.rootToken()}` },
    body: JSON.stringify({ upstreamIssuer, client: { clientId: CLIENT.clientId }, redirectUri: REDIRECT_URI }),
  });
  return `${response.status} ${response.headers.get("content-type")} ${await response.text()}`;
}

describe("StartAuthorization against upstreams that are not on the public internet", () => {
  let provider: OAuthProvider;
  let production: InProcessPortcullis;
  let development: InProcessPortcullis;
  const targets: ProbeTarget[] = [];
  const target = async (made: Promise<ProbeTarget>) => {
    targets.push(await made);
    return targets.at(-1)!;
  };

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    production = await startInProcess({});
    development = await startInProcess(DEV);
  });
  afterAll(async () => {
    await Promise.all(targets.map((made) => made.close()));
    await production?.stop();
    await development?.stop();
    await provider?.close();
  });

  it("refuses the local provider over plain http without the development flag, with the generic reason", async () => {
    const flow = createClients(production.url).oauthFlow;
    const refused = await rejectionOf(flow.startAuthorization(startRequest(provider.issuer), bearer(await production.rootToken())));
    expect([refused.code, refused.rawMessage]).toEqual([Code.Unavailable, UPSTREAM_UNAVAILABLE]);
    expect(production.output()).toContain("plain http is refused without oauth.dev_allow_private_upstreams");
  });

  it("runs the same flow with the development flag, and warns at start that it is set", async () => {
    const flow = createClients(development.url).oauthFlow;
    const started = await flow.startAuthorization(startRequest(provider.issuer), bearer(await development.rootToken()));
    expect(new URL(started.authorizationUrl).origin).toBe(provider.issuer);
    expect(development.output()).toContain("oauth.dev_allow_private_upstreams is on");
    expect(production.output()).not.toContain("dev_allow_private_upstreams is on");
  });

  it.each(["localhost", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"])(
    "refuses https to %s, a loopback address, without connecting",
    async (host) => {
      const listener = await target(httpService(200));
      const flow = createClients(production.url).oauthFlow;
      const request = startRequest(`https://${host}:${listener.port}`);
      const refused = await rejectionOf(flow.startAuthorization(request, bearer(await production.rootToken())));
      expect([refused.code, refused.rawMessage]).toEqual([Code.Unavailable, UPSTREAM_UNAVAILABLE]);
      expect(listener.connections()).toBe(0);
    },
  );

  it("answers byte for byte alike for a closed port, a service that is not HTTP, HTTP errors and a refused address", async () => {
    const http500 = await target(httpService(500));
    const http404 = await target(httpService(404));
    const ssh = await target(nonHttpService());
    const answers = [
      await rawStart(development, `http://127.0.0.1:${await closedPort()}`),
      await rawStart(development, `http://127.0.0.1:${ssh.port}`),
      await rawStart(development, `http://127.0.0.1:${http500.port}`),
      await rawStart(development, `http://127.0.0.1:${http404.port}`),
      await rawStart(production, `https://127.0.0.1:${http500.port}`),
    ];
    expect(ssh.connections()).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set([`503 application/json ${JSON.stringify({ code: "unavailable", message: UPSTREAM_UNAVAILABLE })}`]));
    // What the caller is not told, the operator is.
    const log = development.output();
    for (const cause of ["ECONNREFUSED", "answered HTTP 500", "answered HTTP 404 without a JSON document"]) expect(log).toContain(cause);
  });
});

describe("upstream issuers a caller without a root credential may name", () => {
  let provider: OAuthProvider;
  let unlisted: OAuthProvider;
  let server: InProcessPortcullis;
  let flowOnly: ReturnType<typeof bearer>;
  let root: ReturnType<typeof bearer>;
  let elsewhere: ProbeTarget;

  const dcrKey = (upstreamId: string) =>
    create(DcrKeySchema, {
      issuer: "https://portcullis.example.com",
      upstreamId,
      redirectUri: REDIRECT_URI,
      scopeSet: { case: "scopes", value: { values: ["read"] } },
    });
  const putResolution = (upstreamId: string, tokenEndpoint: string) =>
    createClients(server.url).dcr.putDcrResolution(
      {
        key: dcrKey(upstreamId),
        resolution: { clientId: CLIENT.clientId, authorizationEndpoint: `${provider.issuer}/authorize`, tokenEndpoint },
      },
      root,
    );
  const startDcr = (upstreamId: string, upstreamIssuer: string) =>
    createClients(server.url).oauthFlow.startAuthorization(
      { upstreamIssuer, clientSource: { case: "dcrKey", value: dcrKey(upstreamId) }, scopes: ["read"] },
      flowOnly,
    );

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    unlisted = await startOAuthProvider([CLIENT]);
    elsewhere = await httpService(200);
    // Listed with a trailing slash: compared without it.
    server = await startInProcess({ ...DEV, PORTCULLIS_OAUTH_ALLOWED_ISSUERS: `https://idp.example.com,${provider.issuer}/` });
    root = bearer(await server.rootToken());
    const minted = await createClients(server.url).admin.mintToken({ scopes: ["oauth:flow"], name: "flow only" }, root);
    flowOnly = bearer(minted.token);
  });
  afterAll(async () => {
    await server?.stop();
    await elsewhere?.close();
    await provider?.close();
    await unlisted?.close();
  });

  it("starts a flow against an allowed issuer", async () => {
    const started = await createClients(server.url).oauthFlow.startAuthorization(startRequest(provider.issuer), flowOnly);
    expect(new URL(started.authorizationUrl).origin).toBe(provider.issuer);
  });

  it("refuses any other issuer before contacting it, without echoing it", async () => {
    const issuer = `http://127.0.0.1:${elsewhere.port}`;
    const refused = await rejectionOf(createClients(server.url).oauthFlow.startAuthorization(startRequest(issuer), flowOnly));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.PermissionDenied,
      "upstream_issuer_not_allowed: this upstream issuer is not among the deployment's allowed issuers",
    ]);
    expect(elsewhere.connections()).toBe(0);
  });

  it("lets a root caller name an issuer that is not on the list", async () => {
    const started = await createClients(server.url).oauthFlow.startAuthorization(startRequest(unlisted.issuer), root);
    expect(new URL(started.authorizationUrl).origin).toBe(unlisted.issuer);
  });

  it("starts a DCR flow whose endpoints are at the hosts of its allowed issuer", async () => {
    await putResolution("at-issuer", `${provider.issuer}/token`);
    await expect(startDcr("at-issuer", provider.issuer)).resolves.toMatchObject({ state: expect.any(String) });
  });

  it("refuses a DCR flow that names no upstream issuer, or one not on the list", async () => {
    await putResolution("no-issuer", `${provider.issuer}/token`);
    for (const issuer of ["", unlisted.issuer]) {
      const refused = await rejectionOf(startDcr("no-issuer", issuer));
      expect([refused.code, refused.rawMessage.split(";")[0]]).toEqual([
        Code.PermissionDenied,
        "upstream_issuer_not_allowed: this upstream issuer is not among the deployment's allowed issuers",
      ]);
    }
  });

  it("refuses a DCR flow whose token endpoint is elsewhere than its issuer's metadata says", async () => {
    await putResolution("token-elsewhere", `http://localhost:${elsewhere.port}/token`);
    const refused = await rejectionOf(startDcr("token-elsewhere", provider.issuer));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.PermissionDenied,
      "dcr_endpoint_not_allowed: the DCR resolution's endpoints are not at the hosts its upstream issuer's metadata names",
    ]);
  });
});
