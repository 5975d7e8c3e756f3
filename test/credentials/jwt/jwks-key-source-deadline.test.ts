import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createJwksKeySource } from "../../../src/credentials/jwt/jwks-key-source.js";
import { DeadlineExceededError } from "../../../src/errors.js";
import { eventually } from "../../support/eventually.js";
import { generateTestKey, type TestKey } from "../../support/oidc-provider.js";

describe("the JWKS key source under a caller's deadline", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A JWKS endpoint that holds each request until `release`, counting them. */
  async function heldJwks(key: TestKey) {
    const held: http.ServerResponse[] = [];
    let fetches = 0;
    const server = http.createServer((_request, response) => {
      fetches++;
      held.push(response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    return {
      uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
      fetches: () => fetches,
      held: () => held.length,
      release: () => {
        for (const response of held.splice(0)) {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.publicJwk] }));
        }
      },
    };
  }

  it("stops a caller waiting at its deadline while the shared fetch goes on and serves the next caller", async () => {
    const key = await generateTestKey("ES256", "k1");
    const idp = await heldJwks(key);
    const source = createJwksKeySource({ jwksUri: idp.uri });
    const deadline = new AbortController();
    const impatient = source.getKey({ alg: "ES256", kid: "k1" }, deadline.signal);
    const patient = source.getKey({ alg: "ES256", kid: "k1" });
    await eventually(async () => idp.held() === 1, 5000);
    deadline.abort();
    await expect(impatient).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(idp.held()).toBe(1);
    expect(getEventListeners(deadline.signal, "abort")).toHaveLength(0);

    idp.release();
    await expect(patient).resolves.toBeDefined();
    await expect(source.getKey({ alg: "ES256", kid: "k1" }, new AbortController().signal)).resolves.toBeDefined();
    expect(idp.fetches()).toBe(1);
  });

  it("starts no fetch for a caller past its deadline", async () => {
    const key = await generateTestKey("ES256", "k1");
    const idp = await heldJwks(key);
    const source = createJwksKeySource({ jwksUri: idp.uri });
    const deadline = new AbortController();
    deadline.abort();
    await expect(source.getKey({ alg: "ES256", kid: "k1" }, deadline.signal)).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(source.getKey({ alg: "ES256", kid: "unknown" }, deadline.signal)).rejects.toBeInstanceOf(DeadlineExceededError);
    // A caller in time starts the one fetch.
    const lookup = source.getKey({ alg: "ES256", kid: "k1" });
    await eventually(async () => idp.held() === 1, 5000);
    idp.release();
    await lookup;
    // With a key set cached, an unknown kid past the deadline triggers no refresh either.
    await expect(source.getKey({ alg: "ES256", kid: "unknown" }, deadline.signal)).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(source.getKey({ alg: "ES256", kid: "k1" }, deadline.signal)).resolves.toBeDefined();
    expect(idp.fetches()).toBe(1);
  });
});
