import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { DATA_DIR_LOCK } from "../../src/store/embedded/data-dir-lock.js";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { bearer, createClients, decide } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";

/** The floor, so a lock a killed server left goes stale quickly. */
const STALE_MS = 2000;

// Each test starts server processes one after another; on a loaded 2-core CI machine that alone has taken 30 s.
describe("two servers on one embedded data dir", { timeout: 60_000 }, () => {
  const running: PortcullisProcess[] = [];
  let dataDir: string;

  async function start(): Promise<PortcullisProcess> {
    const server = await startPortcullisProcess({ dataDir, env: { PORTCULLIS_DATA_DIR_LOCK_STALE_MS: String(STALE_MS) } });
    running.push(server);
    return server;
  }
  async function mintOn(server: PortcullisProcess): Promise<string> {
    const response = await createClients(server.url).admin.mintToken(
      { scopes: ["orders:read"], name: "lock" },
      bearer(await server.rootToken()),
    );
    return response.token;
  }
  async function expectAllowedOn(server: PortcullisProcess, token: string): Promise<void> {
    expect(await decide(createClients(server.url), token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
  }

  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses to start the second with a message naming the data dir, while the first keeps serving and writing", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-lock-"));
    const first = await start();
    const before = await mintOn(first);
    const fileBefore = await readFile(join(dataDir, EMBEDDED_DATA_FILE), "utf8");

    const refusal = await start().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(/exited with 1/);
    expect(refusal).toContain(`portcullis: cannot start: another Portcullis process appears to be using data dir ${dataDir}`);
    expect(await readFile(join(dataDir, EMBEDDED_DATA_FILE), "utf8")).toBe(fileBefore);

    await expectAllowedOn(first, before);
    await expectAllowedOn(first, await mintOn(first));
  });

  it("starts the second once the first has stopped gracefully, with the first one's tokens", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-lock-"));
    const first = await start();
    const token = await mintOn(first);
    expect(await first.stop()).toBe(0);
    expect(await readdir(dataDir)).not.toContain(DATA_DIR_LOCK);

    const second = await start();
    await expectAllowedOn(second, token);
  });

  it("starts a new server once the lock a killed server left has gone stale", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-lock-"));
    const killed = await start();
    const token = await mintOn(killed);
    killed.child.kill("SIGKILL");
    await killed.stop();
    const { mtimeMs } = await stat(join(dataDir, DATA_DIR_LOCK));

    // The lock outlives its process; it counts as abandoned STALE_MS after its last refresh.
    await sleep(Math.max(0, mtimeMs + STALE_MS + 250 - Date.now()));
    const next = await start();
    await expectAllowedOn(next, token);
    await expectAllowedOn(next, await mintOn(next));
  });

  it("stops with exit code 1 when its lock is taken away while it runs", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-lock-"));
    const server = await start();
    const exited = once(server.child, "close");
    await rm(join(dataDir, DATA_DIR_LOCK), { recursive: true });

    // Checked at each refresh, every STALE_MS / 2; the shutdown grace is generous.
    const [code] = (await Promise.race([exited, sleep(15_000).then(() => ["still running"])])) as [number | string];
    expect(code).toBe(1);
    expect(server.output()).toContain(`lost the lock on data dir ${dataDir}`);
  });
});
