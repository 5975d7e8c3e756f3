import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { bearer, createClients } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startClientFlow, startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";

const CLIENT = { clientId: "confidential", clientSecret: "confidential-secret-value", authMethod: "client_secret_basic" } as const;

describe("a pending flow in the store of a deployment with an encryption key", () => {
  let provider: OAuthProvider;
  let server: InProcessPortcullis;
  let dataDir: string;

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    dataDir = await mkdtemp(join(tmpdir(), "pcl-flow-sealing-"));
    server = await startInProcess({
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_DCR_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
      PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true",
    });
  });
  afterAll(async () => {
    await server?.stop();
    await provider?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("holds the PKCE verifier sealed and no client secret, and still completes", async () => {
    const flow = createClients(server.url).oauthFlow;
    const auth = bearer(await server.rootToken());
    const started = await startClientFlow(flow, auth, provider, CLIENT, "http://127.0.0.1:9/oauth/callback");
    const file = await readFile(join(dataDir, EMBEDDED_DATA_FILE), "utf8");
    const [pending] = Object.values((JSON.parse(file) as { oauthStates: Record<string, { record: Record<string, unknown> }> }).oauthStates);
    expect(pending?.record.codeVerifier).toMatch(/^pcl-enc:v1:/);
    expect(file).not.toContain(CLIENT.clientSecret);

    const { code, state } = await provider.authorize(started.authorizationUrl);
    const completed = await flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth);
    expect(completed.subject).toBe("user-42");
  });
});
