import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { bearer, createClients, decide, rejectionOf } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from "../support/small-disk.js";

/** What /readyz answers; gRPC health must come to say the same (it may answer from a result up to a second old). */
async function readiness(server: PortcullisProcess): Promise<[number, unknown]> {
  const response = await fetch(`${server.url}/readyz`);
  const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
  const expected = response.status === 200 ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  await eventually(async () => (await health.check({ service: "portcullis.v1.TokenAdminService" })).status === expected, 5000);
  return [response.status, await response.json()];
}

const unavailable = await smallDiskUnavailable();
if (unavailable !== undefined) console.warn(`full-disk tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("a server whose data dir fills up (a 4 MiB tmpfs)", () => {
  const rootToken = generateSecret();
  let disk: SmallDisk;
  let server: PortcullisProcess | undefined;
  const start = async () =>
    (server = await startPortcullisProcess({ dataDir: join(disk.dir, "data"), env: { PORTCULLIS_ROOT_TOKENS: rootToken } }));

  beforeEach(async () => {
    disk = await mountSmallDisk(4 * 1024 * 1024);
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await disk.dispose();
  });

  // Two server starts: on two busy cores each can take well over ten seconds, hence the long timeout.
  it("refuses mints and fails /readyz and gRPC health, still revokes for good, and recovers once there is room", async () => {
    const clients = createClients((await start()).url);
    const root = bearer(rootToken);
    const kept = await clients.admin.mintToken({ scopes: ["orders:read"], name: "kept" }, root);
    const stolen = await clients.admin.mintToken({ scopes: ["orders:read"], name: "stolen" }, root);
    expect(await readiness(server!)).toEqual([200, { status: "ready", config: expect.any(String) }]);
    const dataFile = join(server!.dataDir, EMBEDDED_DATA_FILE);

    await disk.fill();
    const fileBefore = await readFile(dataFile);
    expect((await rejectionOf(clients.admin.mintToken({ scopes: ["orders:read"], name: "refused" }, root))).code).toBe(
      Code.Unavailable,
    );
    expect(await readFile(dataFile)).toEqual(fileBefore);
    expect(await readiness(server!)).toEqual([503, { status: "unavailable", reason: "store_write_failing", config: expect.any(String) }]);

    await clients.admin.revokeToken({ tokenId: stolen.record!.tokenId }, root);
    expect(await decide(clients, stolen.token, "orders:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });
    expect(await decide(clients, kept.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    // The server's log reaches this process through a pipe, not necessarily before its answers.
    await eventually(async () => server!.output().includes("spent the space reserve"), 20_000);
    expect(await readiness(server!)).toEqual([503, { status: "unavailable", reason: "store_write_failing", config: expect.any(String) }]);

    // Restarted on a disk still full (whatever filled it takes the space that comes free),
    // it reads the revocation back from the file.
    expect(await server!.stop()).toBe(0);
    await disk.fill();
    const restarted = createClients((await start()).url);
    expect(await decide(restarted, stolen.token, "orders:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });
    expect(await readiness(server!)).toEqual([503, { status: "unavailable", reason: "store_write_failing", config: expect.any(String) }]);

    await disk.free();
    const later = await restarted.admin.mintToken({ scopes: ["orders:read"], name: "later" }, root);
    expect(await decide(restarted, later.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect(await readiness(server!)).toEqual([200, { status: "ready", config: expect.any(String) }]);
  }, 120_000);
});
