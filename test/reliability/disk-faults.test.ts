import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from "../support/small-disk.js";
import { isServing, leakedSecrets, probe } from "./replica-probes.js";
import { recordRow } from "./rows.js";

const KEPT = 150;
const REVOKED = 60;
const REFUSED_MINTS = 40;

const unavailable = await smallDiskUnavailable();
if (unavailable !== undefined) console.warn(`disk-fault campaign skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("the embedded store on a disk that fills up (a 4 MiB tmpfs)", () => {
  const rootToken = generateSecret();
  let disk: SmallDisk;
  const servers: PortcullisProcess[] = [];
  const start = async () => {
    const server = await startPortcullisProcess({ dataDir: join(disk.dir, "data"), env: { PORTCULLIS_ROOT_TOKENS: rootToken, PORTCULLIS_LOG_LEVEL: "info" } });
    servers.push(server);
    return server;
  };
  beforeAll(async () => {
    disk = await mountSmallDisk(4 * 1024 * 1024);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await disk?.dispose();
  });

  it("refuses every write but revocations cleanly, revokes for good, shows it in readiness and loses nothing across a restart", async () => {
    const root = bearer(rootToken);
    let server = await start();
    let clients: Clients = createClients(server.url);
    const minted: { token: string; tokenId: string }[] = [];
    for (let index = 0; index < KEPT + REVOKED; index++) {
      const answer = await clients.admin.mintToken({ scopes: ["orders:read"], name: `disk-${index}` }, root);
      minted.push({ token: answer.token, tokenId: answer.record!.tokenId });
    }
    const kept = minted.slice(0, KEPT);
    const toRevoke = minted.slice(KEPT);
    let operations = minted.length;

    await disk.fill();
    const fileBefore = await readFile(join(server.dataDir, EMBEDDED_DATA_FILE));
    const refusals: string[] = [];
    for (let index = 0; index < REFUSED_MINTS; index++) {
      operations++;
      const outcome = await clients.admin.mintToken({ scopes: ["orders:read"], name: "refused" }, root).then(
        () => "minted",
        (error: unknown) => Code[ConnectError.from(error).code],
      );
      refusals.push(outcome);
    }
    const fileAfterRefusals = await readFile(join(server.dataDir, EMBEDDED_DATA_FILE));
    const revokeOutcomes: string[] = [];
    for (const { tokenId } of toRevoke) {
      operations++;
      revokeOutcomes.push(await clients.admin.revokeToken({ tokenId }, root).then(() => "revoked", (error: unknown) => Code[ConnectError.from(error).code]));
    }
    const readinessWhileFull = await probe(server.url);

    const wrongfulBefore = await countAllowed(clients, toRevoke);
    const lostBefore = kept.length - (await countAllowed(clients, kept));
    operations += minted.length;

    // A restart on the disk still full reads everything back.
    await server.stop();
    await disk.fill();
    server = await start();
    clients = createClients(server.url);
    const wrongfulAfter = await countAllowed(clients, toRevoke);
    const lostAfter = kept.length - (await countAllowed(clients, kept));
    operations += minted.length;

    await disk.free();
    const freedAt = Date.now();
    await eventually(async () => isServing(await probe(server.url)), 20_000);
    const recoverySeconds = (Date.now() - freedAt) / 1000;
    const later = await clients.admin.mintToken({ scopes: ["orders:read"], name: "later" }, root);

    recordRow({
      test: "Disk full under the embedded store (4 MiB tmpfs): mints refused, revocations kept, restart",
      operations: operations + 1,
      faults: 2,
      badInputs: 0,
      wrongfulAllows: wrongfulBefore + wrongfulAfter,
      tokensLost: lostBefore + lostAfter,
      secretsLeaked: servers.reduce((sum, each) => sum + leakedSecrets(each.output(), [rootToken, ...minted.map(({ token }) => token), later.token]), 0),
      recoverySeconds,
      p99DuringFaultMs: null,
    });
    expect(new Set(refusals)).toEqual(new Set(["Unavailable"]));
    expect(fileAfterRefusals).toEqual(fileBefore);
    expect(new Set(revokeOutcomes)).toEqual(new Set(["revoked"]));
    expect(readinessWhileFull.readyz).toBe(503);
    expect(await countAllowed(clients, [later])).toBe(1);
  });
});

/** How many of `tokens` the server allows (as scope `orders:read`). */
async function countAllowed(clients: Clients, tokens: readonly { token: string }[]): Promise<number> {
  let allowed = 0;
  for (const { token } of tokens) {
    const answer = await clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/orders", requiredScope: "orders:read" });
    if (answer.reason === "ok") allowed++;
  }
  return allowed;
}
