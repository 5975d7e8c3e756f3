import { createServer, type Server } from "node:http";
import type { LookupAddress } from "node:dns";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nonPublicRange, upstreamAddressPolicy, type UpstreamAddressPolicy } from "../../src/upstream/address-policy.js";
import { boundedFetch, UnreachableError } from "../../src/upstream/bounded-fetch.js";
import { guardedDispatcher, type ResolveAll } from "../../src/upstream/guarded-dispatcher.js";

const LIMITS = { timeoutMs: 2000, maxBytes: 1024 };

/** Stands in for the public internet: 127.0.0.1 counts as public here, every other address as in production. */
const ONLY_127_0_0_1: UpstreamAddressPolicy = {
  plainHttp: true,
  refusal: (address) => (address === "127.0.0.1" ? undefined : nonPublicRange(address)),
};

/** A resolver answering from a table, counting its calls. */
function resolver(answers: (hostname: string, call: number) => string[]): ResolveAll & { calls: number } {
  const resolve = ((hostname, callback) => {
    resolve.calls++;
    const addresses: LookupAddress[] = answers(hostname, resolve.calls).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    callback(null, addresses);
  }) as ResolveAll & { calls: number };
  resolve.calls = 0;
  return resolve;
}

describe("which addresses an upstream may have", () => {
  it.each([
    "127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
    "fe80::1", "fc00::1", "fd12:3456::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1",
  ])("refuses %s in production and allows it in development", (address) => {
    expect(upstreamAddressPolicy(false).refusal(address)).toBeDefined();
    expect(upstreamAddressPolicy(true).refusal(address)).toBeUndefined();
  });

  it.each(["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])("allows the global unicast address %s", (address) => {
    expect(upstreamAddressPolicy(false).refusal(address)).toBeUndefined();
  });
});

describe("connections through the guarded dispatcher", () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const hosts: string[] = [];
  const dispatchers: { destroy(): Promise<void> }[] = [];
  const dispatcher = (...args: Parameters<typeof guardedDispatcher>) => {
    const made = guardedDispatcher(...args);
    dispatchers.push(made);
    return made;
  };
  const fetchVia = (url: string, through: ReturnType<typeof guardedDispatcher>) =>
    boundedFetch(url, {}, { ...LIMITS, dispatcher: through }, "OIDC discovery");
  const failureOf = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error as UnreachableError);

  beforeAll(async () => {
    server = createServer((request, response) => {
      hosts.push(request.headers.host ?? "");
      response.writeHead(200, { connection: "close" }).end("{}");
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((made) => made.destroy()));
    connections = 0;
    hosts.length = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("refuses a name that resolves to a loopback address, before connecting, and says so in the log detail only", async () => {
    const resolve = resolver(() => ["127.0.0.1"]);
    const where = `https://idp.example.test:${port}/.well-known/openid-configuration`;
    const failure = await failureOf(fetchVia(`${where}?k=v`, dispatcher(upstreamAddressPolicy(false), resolve)));
    expect(failure).toBeInstanceOf(UnreachableError);
    expect(failure?.message).toBe(`OIDC discovery (${where}) could not be reached (UPSTREAM_ADDRESS_REFUSED)`);
    expect(failure?.detail).toBe(`TypeError (UPSTREAM_ADDRESS_REFUSED) at ${where}: 127.0.0.1 is a loopback address`);
    expect([resolve.calls, connections]).toEqual([1, 0]);
  });

  it("refuses localhost, resolved by the system, in production", async () => {
    const failure = await failureOf(fetchVia(`https://localhost:${port}/`, dispatcher(upstreamAddressPolicy(false))));
    expect(failure?.detail).toMatch(/: (127\.0\.0\.1|::1) is a loopback address$/);
    expect(connections).toBe(0);
  });

  it("refuses a name with any refused address, even when another of its addresses would do", async () => {
    const both = resolver(() => ["127.0.0.1", "127.0.0.2"]);
    const failure = await failureOf(fetchVia(`http://idp.example.test:${port}/`, dispatcher(ONLY_127_0_0_1, both)));
    expect(failure?.detail).toMatch(/127\.0\.0\.2 is a loopback address$/);
    expect(connections).toBe(0);
  });

  it.each(["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])(
    "refuses the literal address %s without looking anything up",
    async (host) => {
      const resolve = resolver(() => ["8.8.8.8"]);
      const failure = await failureOf(fetchVia(`https://${host}:${port}/`, dispatcher(upstreamAddressPolicy(false), resolve)));
      expect(failure).toBeInstanceOf(UnreachableError);
      expect([resolve.calls, connections]).toEqual([0, 0]);
    },
  );

  it("refuses plain http unless the policy allows it", async () => {
    const httpsOnly = { ...ONLY_127_0_0_1, plainHttp: false };
    const failure = await failureOf(fetchVia(`http://127.0.0.1:${port}/`, dispatcher(httpsOnly)));
    expect(failure?.detail).toMatch(/plain http is refused/);
    expect(connections).toBe(0);
  });

  it("dials the address it checked, resolving once per connection, and keeps the name as Host", async () => {
    // A rebinding name: allowed at the first resolution, loopback at every later one.
    const resolve = resolver((_hostname, call) => (call === 1 ? ["127.0.0.1"] : ["127.0.0.2"]));
    const through = dispatcher(ONLY_127_0_0_1, resolve);
    const answer = await fetchVia(`http://rebinding.example.test:${port}/`, through);
    expect([answer.status, resolve.calls, hosts]).toEqual([200, 1, [`rebinding.example.test:${port}`]]);
    // The server closed that connection; the next one is checked again, on its own resolution.
    const failure = await failureOf(fetchVia(`http://rebinding.example.test:${port}/`, through));
    expect(failure?.detail).toMatch(/127\.0\.0\.2 is a loopback address$/);
    expect([resolve.calls, connections]).toEqual([2, 1]);
  });

  it("lets development reach loopback over plain http", async () => {
    const answer = await fetchVia(`http://localhost:${port}/`, dispatcher(upstreamAddressPolicy(true)));
    expect(answer.status).toBe(200);
  });
});
