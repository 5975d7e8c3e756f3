import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { InvalidArgumentError } from "../../src/errors.js";

describe("DCR and OAuth settings", () => {
  it("default to 90-day staleness, 10-minute flows, plain secrets and the main Redis prefix", () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", PORTCULLIS_REDIS_PREFIX: "{p}:" });
    expect(config.redis?.dcrPrefix).toBe("{p}:");
    expect(config.dcr).toEqual({ staleAfterMs: 90 * 24 * 3600 * 1000, encryptionKey: undefined, leaseTtlMs: 30_000, awaitMaxMs: 60_000, awaitPollMs: 100 });
    expect(config.oauth).toEqual({ stateTtlMs: 600_000, httpTimeoutMs: 5000, httpMaxBytes: 1024 * 1024, discoveryCacheMs: 600_000 });
  });

  it("take ToolHive's DCR prefix and the other values from the environment", () => {
    const key = Buffer.alloc(32, 1).toString("base64");
    const config = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6379",
      PORTCULLIS_DCR_REDIS_PREFIX: "thv:auth:{default:my-server}:",
      PORTCULLIS_DCR_STALE_AFTER_S: "60",
      PORTCULLIS_DCR_ENCRYPTION_KEY: key,
      PORTCULLIS_OAUTH_STATE_TTL_MS: "1000",
      PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS: "250",
    });
    expect(config.redis?.dcrPrefix).toBe("thv:auth:{default:my-server}:");
    expect(config.dcr.staleAfterMs).toBe(60_000);
    expect(config.dcr.encryptionKey).toEqual(Buffer.alloc(32, 1));
    expect([config.oauth.stateTtlMs, config.oauth.httpTimeoutMs]).toEqual([1000, 250]);
  });

  it("refuse an encryption key that is not 32 bytes, without echoing it", () => {
    const short = Buffer.alloc(16, 2).toString("base64");
    const failure = (() => {
      try {
        loadConfig({ PORTCULLIS_DCR_ENCRYPTION_KEY: short });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(InvalidArgumentError);
    expect((failure as Error).message).not.toContain(short);
  });

  it("refuse a zero timeout, from the environment as from the file", async () => {
    expect(() => loadConfig({ PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS: "0" })).toThrow(InvalidArgumentError);
    const file = join(await mkdtemp(join(tmpdir(), "pcl-config-")), "config.yaml");
    await writeFile(file, "oauth:\n  http_timeout_ms: 0\n");
    expect(() => loadConfig({ PORTCULLIS_CONFIG: file })).toThrow(InvalidArgumentError);
  });
});
