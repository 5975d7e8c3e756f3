import { writeFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import type { LiveParts } from "../../src/wiring/live-parts.js";
import { createClients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";

const POLICY = "policy:\n  rules:\n    - path: /orders\n      scope: orders:read\n";

function configWith(...idps: { alias: string; idp: OidcProvider }[]): string {
  const issuers = idps.map(({ alias, idp }) => `    - issuer: ${idp.issuer}\n      alias: ${alias}\n      jwks_uri: ${idp.jwksUri}\n      audiences: any\n`);
  return `${POLICY}jwt:\n  issuers:\n${issuers.join("")}`;
}

describe("reloading the JWT issuers of a running server", () => {
  const writeConfig = configFileWriter();
  const first = new OidcProvider();
  const second = new OidcProvider();
  let firstKey: TestKey;
  let secondKey: TestKey;
  let server: InProcessPortcullis | undefined;

  beforeAll(async () => {
    [firstKey, secondKey] = await Promise.all([generateTestKey("ES256", "first-1"), generateTestKey("ES256", "second-1")]);
    await Promise.all([first.start(), second.start()]);
    first.publish(firstKey);
    second.publish(secondKey);
  });
  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  const decisionFor = async (idp: OidcProvider, key: TestKey) => {
    const token = await idp.sign(key, { scope: "orders:read" });
    const answer = await createClients(server!.url).authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /orders" });
    return { decision: answer.decision, reason: answer.reason };
  };

  it("adds and removes issuers, keeps the fetched keys of an issuer whose settings did not change, and tells the reload listeners", async () => {
    const path = writeConfig(configWith({ alias: "first", idp: first }));
    server = await startInProcess({ PORTCULLIS_CONFIG: path, PORTCULLIS_WATCH_CONFIG: "false" });
    const heard: [string, string][] = [];
    server.running.onReloaded((next: LiveParts, previous: LiveParts) => heard.push([previous.config.configHash, next.config.configHash]));
    expect(await decisionFor(first, firstKey)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect((await decisionFor(second, secondKey)).decision).toBe(Decision.DENY);
    const firstFetches = first.jwksFetches;

    writeFileSync(path, configWith({ alias: "first", idp: first }, { alias: "second", idp: second }));
    const added = await server.running.reload();
    expect(added).toMatchObject({ result: "success" });
    expect(await decisionFor(second, secondKey)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect(await decisionFor(first, firstKey)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect(first.jwksFetches).toBe(firstFetches);

    expect(await server.running.reload()).toMatchObject({ result: "unchanged" });

    writeFileSync(path, configWith({ alias: "second", idp: second }));
    const removed = await server.running.reload();
    expect(removed).toMatchObject({ result: "success" });
    expect((await decisionFor(first, firstKey)).decision).toBe(Decision.DENY);
    expect(await decisionFor(second, secondKey)).toEqual({ decision: Decision.ALLOW, reason: "ok" });

    expect(heard).toHaveLength(2);
    expect(heard[1]).toEqual([heard[0]![1], removed.hash]);
  });

  it("refuses a request issuer whose key cannot be used, naming the field, and keeps serving the issuers in use", async () => {
    const path = writeConfig(configWith({ alias: "first", idp: first }));
    server = await startInProcess({ PORTCULLIS_CONFIG: path, PORTCULLIS_WATCH_CONFIG: "false" });
    // An EC public key offered for an RSA algorithm passes the schema and fails only when the verifier is built.
    const ecKey = JSON.stringify(secondKey.publicJwk);
    writeFileSync(
      path,
      `${configWith({ alias: "first", idp: first })}  request_issuers:\n    - issuer: orchestrator\n      jwk: ${ecKey}\n      algorithms: [RS256]\n      audiences: any\n`,
    );
    const outcome = await server.running.reload();
    expect(outcome).toMatchObject({ result: "failure", field: "jwt.request_issuers[0].jwk" });
    expect(server.output()).toContain("configuration reload refused: jwt.request_issuers[0].jwk: cannot be used for RS256");
    expect(await decisionFor(first, firstKey)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
  });
});
