import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";

/** The same rule, public (ALLOW without a credential) or scoped (DENY without one). */
const ALLOWING = "policy:\n  rules:\n    - name: orders\n      path: /orders\n      public: true\n";
const DENYING = "policy:\n  rules:\n    - name: orders\n      path: /orders\n      scope: orders:read\n";
const SYNTAX_ERROR = "policy:\n  rules:\n    - name: orders\n     path: [/orders\n";
const UNKNOWN_KEY = "polcy:\n  rules: []\n";

const hashOf = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

const scratch = mkdtempSync(join(tmpdir(), "portcullis-reload-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let made = 0;

/** A configuration file alone in its directory, replaced by rename (as editors and `kubectl cp` do) or written in place. */
function plainConfigFile(text: string) {
  const dir = join(scratch, `plain-${++made}`);
  mkdirSync(dir);
  const path = join(dir, "portcullis.yaml");
  writeFileSync(path, text);
  return {
    path,
    replace(next: string) {
      writeFileSync(join(dir, ".portcullis.yaml.tmp"), next);
      renameSync(join(dir, ".portcullis.yaml.tmp"), path);
    },
    writeInPlace: (next: string) => writeFileSync(path, next),
  };
}

/**
 * A ConfigMap volume as the kubelet lays it out: the file is a symlink through
 * `..data`, itself a symlink to a timestamped directory; an update writes a
 * new directory and renames a new `..data` over the old one.
 */
function configMapVolume(text: string) {
  const dir = join(scratch, `configmap-${++made}`);
  mkdirSync(dir);
  let version = 0;
  const publish = (next: string) => {
    const data = `..2024_01_01_00_00_0${++version}.000000001`;
    mkdirSync(join(dir, data));
    writeFileSync(join(dir, data, "portcullis.yaml"), next);
    symlinkSync(data, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  publish(text);
  symlinkSync(join("..data", "portcullis.yaml"), join(dir, "portcullis.yaml"));
  return { path: join(dir, "portcullis.yaml"), publish };
}

interface Answer {
  startedAt: number;
  endedAt: number;
  decision: Decision;
}

/** Several gRPC clients, each on its own HTTP/2 connection, asking Authorize in a loop until stopped. */
function authorizeLoad(url: string, connections = 4) {
  const answers: Answer[] = [];
  const failures: unknown[] = [];
  let running = true;
  const loops = Array.from({ length: connections }, async () => {
    const { authorization } = createClients(url);
    while (running) {
      const startedAt = performance.now();
      try {
        const { decision } = await authorization.authorize({ authorization: "", resource: "GET /orders" });
        answers.push({ startedAt, endedAt: performance.now(), decision });
      } catch (error) {
        failures.push(error);
      }
    }
  });
  return {
    answers,
    failures,
    /** Waits until an answer that started after now is `decision`; answers when that answer ended. */
    async until(decision: Decision): Promise<number> {
      const since = performance.now();
      let seenAt = 0;
      await eventually(async () => {
        seenAt = answers.find((answer) => answer.startedAt > since && answer.decision === decision)?.endedAt ?? 0;
        return seenAt > 0;
      }, 20_000);
      return seenAt;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The decisions answered to requests that started after `from` (and before `to`), each once. */
function answersBetween(answers: Answer[], from: number, to = Number.POSITIVE_INFINITY): Decision[] {
  return [...new Set(answers.filter((answer) => answer.startedAt > from && answer.startedAt < to).map((answer) => answer.decision))];
}

async function decisionOf(server: PortcullisProcess): Promise<Decision> {
  return (await createClients(server.url).authorization.authorize({ authorization: "", resource: "GET /orders" })).decision;
}

async function reloads(server: PortcullisProcess): Promise<{ success: number; failure: number; hashes: string[] }> {
  const samples = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
  return {
    success: sampleValue(samples, "portcullis_config_reload_total", { result: "success" })!,
    failure: sampleValue(samples, "portcullis_config_reload_total", { result: "failure" })!,
    hashes: samples.filter((sample) => sample.name === "portcullis_config_info" && sample.value === 1).map((sample) => sample.labels.hash!),
  };
}

async function readyHash(server: PortcullisProcess): Promise<unknown> {
  const response = await fetch(`${server.url}/readyz`);
  return ((await response.json()) as { config?: string }).config;
}

const refusalsIn = (server: PortcullisProcess) => server.output().split("configuration reload refused").length - 1;

describe("reloading the configuration file while serving", () => {
  let server: PortcullisProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("turns an ALLOW into a DENY and back under concurrent Authorize load, when the file is renamed over or written in place, with no failed request", async () => {
    const file = plainConfigFile(ALLOWING);
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: file.path } });
    const load = authorizeLoad(server.url);
    try {
      await load.until(Decision.ALLOW);

      file.replace(DENYING);
      const deniedAt = await load.until(Decision.DENY);
      const rewrittenAt = performance.now();
      file.writeInPlace(ALLOWING);
      const allowedAgainAt = await load.until(Decision.ALLOW);
      // More answers after the second change, to see that it holds.
      await load.until(Decision.ALLOW);
      await load.stop();

      // Once a request saw a new policy, every request started later did too.
      expect(answersBetween(load.answers, deniedAt, rewrittenAt)).toEqual([Decision.DENY]);
      expect(answersBetween(load.answers, allowedAgainAt)).toEqual([Decision.ALLOW]);
      expect(load.failures).toEqual([]);
      expect(load.answers.length).toBeGreaterThan(20);
      expect((await reloads(server)).success).toBeGreaterThanOrEqual(2);
    } finally {
      await load.stop();
    }
  }, 90_000);

  it("follows a ConfigMap update, keeps the configuration in use when the new file is broken, and names the field", async () => {
    const volume = configMapVolume(ALLOWING);
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: volume.path } });
    expect(await readyHash(server)).toBe(hashOf(ALLOWING));
    expect((await reloads(server)).hashes).toEqual([hashOf(ALLOWING)]);

    volume.publish(DENYING);
    await eventually(async () => (await decisionOf(server!)) === Decision.DENY, 20_000);
    expect(await readyHash(server)).toBe(hashOf(DENYING));
    const afterChange = await reloads(server);
    expect(afterChange).toMatchObject({ success: 1, failure: 0, hashes: [hashOf(DENYING)] });

    volume.publish(SYNTAX_ERROR);
    await eventually(async () => refusalsIn(server!) === 1, 20_000);
    expect(server.output()).toMatch(/"field":"PORTCULLIS_CONFIG".*is not valid YAML at line 4/);
    volume.publish(UNKNOWN_KEY);
    await eventually(async () => refusalsIn(server!) === 2, 20_000);
    expect(server.output()).toMatch(/"field":"polcy".*did you mean policy/);

    expect(await decisionOf(server)).toBe(Decision.DENY);
    expect(await readyHash(server)).toBe(hashOf(DENYING));
    expect(await reloads(server)).toEqual({ success: 1, failure: 2, hashes: [hashOf(DENYING)] });
  }, 90_000);

  it("reloads on SIGHUP without ending the process: applies a changed file, refuses a broken one and a change that needs a restart", async () => {
    const file = plainConfigFile(ALLOWING);
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: file.path, PORTCULLIS_WATCH_CONFIG: "false" } });
    const hangUp = () => server!.child.kill("SIGHUP");

    file.writeInPlace(DENYING);
    hangUp();
    await eventually(async () => (await decisionOf(server!)) === Decision.DENY, 20_000);
    // The log line follows the swap, through an asynchronous log destination.
    await eventually(async () => /"trigger":"signal".*"msg":"configuration reloaded"/.test(server!.output()), 20_000);

    file.writeInPlace(UNKNOWN_KEY);
    hangUp();
    await eventually(async () => refusalsIn(server!) === 1, 20_000);

    // A store backend cannot change while running: refused whole, the policy change in the same file included.
    file.writeInPlace(`${ALLOWING}redis:\n  url: redis://127.0.0.1:6390\ntoken_pepper: another-pepper-value\n`);
    hangUp();
    await eventually(async () => refusalsIn(server!) === 2, 20_000);
    await eventually(async () => /"field":"redis, token_pepper".*cannot change while running; restart to apply/.test(server!.output()), 20_000);
    expect(server.output()).not.toContain("another-pepper-value");

    expect(await decisionOf(server)).toBe(Decision.DENY);
    expect(await readyHash(server)).toBe(hashOf(DENYING));
    expect(await reloads(server)).toMatchObject({ success: 1, failure: 2 });
    expect(server.child.exitCode).toBeNull();
    expect(await server.stop()).toBe(0);
  }, 90_000);
});
