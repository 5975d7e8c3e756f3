import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlreadyExistsError } from "../../src/errors.js";
import type { OAuthFlowRecord } from "../../src/model/oauth-flow-record.js";
import { openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";

async function embedded(): Promise<{ store: Store; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "pcl-oauth-state-"));
  const store = await openEmbeddedStore(dir);
  return {
    store,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function redis(): Promise<{ store: Store; close(): Promise<void> }> {
  const { prefix, cleanup } = testRedisPrefix();
  const store = await openRedisStore({ url: TEST_REDIS_URL, prefix, dcrPrefix: prefix, commandTimeoutMs: 2000, startupTimeoutMs: 5000 });
  return {
    store,
    async close() {
      await store.close();
      await cleanup();
    },
  };
}

const flow = (lifetimeMs: number): OAuthFlowRecord => {
  const createdAt = Date.now();
  return {
    upstreamIssuer: "https://idp.example.com",
    tokenEndpoint: "https://idp.example.com/token",
    clientId: "client",
    dcrKey: { issuer: "https://thv.example.com", upstreamId: "idp", redirectUri: "https://app.example.com/cb", scopesHash: "0".repeat(64) },
    tokenEndpointAuthMethod: "client_secret_basic",
    redirectUri: "https://app.example.com/cb",
    codeVerifier: "verifier",
    nonce: "nonce",
    scopes: ["openid"],
    resource: "",
    createdAt,
    expiresAt: createdAt + lifetimeMs,
  };
};

let counter = 0;
const freshId = () => `state-${process.pid}-${++counter}`;

describe.each([
  { name: "embedded", open: embedded },
  { name: "redis", open: redis },
])("pending OAuth flows on the $name backend", ({ open }) => {
  let backend: Awaited<ReturnType<typeof open>>;
  beforeAll(async () => {
    backend = await open();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("hand a flow out once, then say it was used", async () => {
    const id = freshId();
    const record = flow(60_000);
    await backend.store.oauthStates.insert(id, record);
    expect(await backend.store.oauthStates.consume(id, Date.now())).toEqual({ record, claim: expect.any(String) });
    expect(await backend.store.oauthStates.consume(id, Date.now())).toEqual({ used: true });
  });

  it("show a flow without using it up", async () => {
    const id = freshId();
    const record = flow(60_000);
    expect(await backend.store.oauthStates.find(id, Date.now())).toEqual({ unknown: true });
    await backend.store.oauthStates.insert(id, record);
    expect(await backend.store.oauthStates.find(id, Date.now())).toEqual({ record });
    expect(await backend.store.oauthStates.find(id, Date.now())).toEqual({ record });
    expect(await backend.store.oauthStates.consume(id, Date.now())).toMatchObject({ record });
    expect(await backend.store.oauthStates.find(id, Date.now())).toEqual({ used: true });
  });

  it("take a consumed flow back for its consumer only, once, and hand it out again", async () => {
    const id = freshId();
    const record = flow(60_000);
    await backend.store.oauthStates.insert(id, record);
    const first = await backend.store.oauthStates.consume(id, Date.now());
    if (!("claim" in first)) throw new Error("the flow was not handed out");
    expect(await backend.store.oauthStates.restore(id, "another-consumption", record, Date.now())).toBe(false);
    expect(await backend.store.oauthStates.find(id, Date.now())).toEqual({ used: true });
    expect(await backend.store.oauthStates.restore(id, first.claim, record, Date.now())).toBe(true);
    expect(await backend.store.oauthStates.restore(id, first.claim, record, Date.now())).toBe(false);
    expect(await backend.store.oauthStates.consume(id, Date.now())).toEqual({ record, claim: expect.any(String) });
    expect(await backend.store.oauthStates.restore(id, first.claim, record, Date.now())).toBe(false);
  });

  it("hand a flow put back to exactly one of many concurrent consumers again", async () => {
    const id = freshId();
    const record = flow(60_000);
    await backend.store.oauthStates.insert(id, record);
    const consumeAll = () => Promise.all(Array.from({ length: 10 }, () => backend.store.oauthStates.consume(id, Date.now())));
    const winners = (await consumeAll()).filter((result) => "claim" in result);
    expect(winners).toHaveLength(1);
    await backend.store.oauthStates.restore(id, winners[0]!.claim, record, Date.now());
    expect((await consumeAll()).filter((result) => "claim" in result)).toHaveLength(1);
  });

  it("give a flow put back only the lifetime it had left, and none once it expired", async () => {
    const id = freshId();
    // Lifetimes of a second: a loaded CI machine has taken over 100 ms between an insert and the next call.
    const record = flow(1_000);
    await backend.store.oauthStates.insert(id, record);
    const consumed = await backend.store.oauthStates.consume(id, Date.now());
    if (!("claim" in consumed)) throw new Error("the flow was not handed out");
    expect(await backend.store.oauthStates.restore(id, consumed.claim, record, Date.now())).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await backend.store.oauthStates.consume(id, Date.now())).toEqual({ unknown: true });

    const late = freshId();
    const lateRecord = flow(1_000);
    await backend.store.oauthStates.insert(late, lateRecord);
    const lateConsumption = await backend.store.oauthStates.consume(late, Date.now());
    if (!("claim" in lateConsumption)) throw new Error("the flow was not handed out");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await backend.store.oauthStates.restore(late, lateConsumption.claim, lateRecord, Date.now())).toBe(false);
    expect(await backend.store.oauthStates.find(late, Date.now())).toEqual({ unknown: true });
  });

  it("hand a flow to exactly one of many concurrent consumers", async () => {
    const id = freshId();
    await backend.store.oauthStates.insert(id, flow(60_000));
    const results = await Promise.all(Array.from({ length: 10 }, () => backend.store.oauthStates.consume(id, Date.now())));
    expect(results.filter((result) => "record" in result)).toHaveLength(1);
    expect(results.filter((result) => "used" in result)).toHaveLength(9);
  });

  it("do not know a state never stored, nor one that expired", async () => {
    expect(await backend.store.oauthStates.consume(freshId(), Date.now())).toEqual({ unknown: true });
    const id = freshId();
    await backend.store.oauthStates.insert(id, flow(50));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await backend.store.oauthStates.consume(id, Date.now())).toEqual({ unknown: true });
  });

  it("refuse a second flow under the same state", async () => {
    const id = freshId();
    await backend.store.oauthStates.insert(id, flow(60_000));
    await expect(backend.store.oauthStates.insert(id, flow(60_000))).rejects.toBeInstanceOf(AlreadyExistsError);
  });
});
