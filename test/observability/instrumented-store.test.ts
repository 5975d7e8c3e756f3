import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, UnavailableError } from "../../src/errors.js";
import type { StoredToken } from "../../src/model/token.js";
import { instrumentedStore } from "../../src/observability/instrumented-store.js";
import { createMetrics, type Metrics } from "../../src/observability/metrics.js";
import { openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";

function token(id: string): StoredToken {
  return { id, hash: "00".repeat(32), scopes: ["a"], name: id, allowedLibraries: [], allowedTools: [], source: "minted", createdAt: 1 };
}

async function storeErrors(metrics: Metrics, operation: string, kind: string) {
  return sampleValue(parseSamples(await metrics.registry.metrics()), "portcullis_store_errors_total", {
    backend: "embedded",
    operation,
    kind,
  });
}

describe("the instrumented store", () => {
  it("passes results and domain answers through without counting them as failures", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "portcullis-obs-"));
    const metrics = createMetrics();
    const store = instrumentedStore(await openEmbeddedStore(dataDir), { metrics });
    try {
      expect(store.backend).toBe("embedded");
      await store.tokens.insert(token("tok_a"));
      expect((await store.tokens.get("tok_a"))?.name).toBe("tok_a");
      await expect(store.tokens.insert(token("tok_a"))).rejects.toBeInstanceOf(AlreadyExistsError);
      await store.ping();

      expect(await storeErrors(metrics, "tokens.insert", "unavailable")).toBe(0);
      expect(await storeErrors(metrics, "tokens.insert", "unexpected")).toBe(0);
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("counts a write that cannot be made durable as unavailable, by backend and operation", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "portcullis-obs-"));
    const metrics = createMetrics();
    const store = instrumentedStore(await openEmbeddedStore(dataDir), { metrics });
    try {
      // Without its directory the data file cannot be written, even by root.
      await rm(dataDir, { recursive: true, force: true });
      await expect(store.tokens.insert(token("tok_b"))).rejects.toBeInstanceOf(UnavailableError);
      await expect(store.tokens.revoke("tok_b", 2)).resolves.toBeUndefined();

      expect(await storeErrors(metrics, "tokens.insert", "unavailable")).toBe(1);
      expect(await storeErrors(metrics, "tokens.revoke", "unavailable")).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("wraps inherited and synchronous methods of sub-stores, counting what they throw", async () => {
    class CountingSubStore {
      calls = 0;
      size(): number {
        return ++this.calls;
      }
      async broken(): Promise<never> {
        throw new TypeError("a bug");
      }
      refuse(): never {
        throw new UnavailableError("down");
      }
    }
    const sub = new CountingSubStore();
    const metrics = createMetrics();
    const dataDir = await mkdtemp(join(tmpdir(), "portcullis-obs-"));
    const base = await openEmbeddedStore(dataDir);
    const store = instrumentedStore({ ...base, backend: "embedded", extra: sub } as typeof base, { metrics }) as typeof base & {
      extra: CountingSubStore;
    };

    expect(store.extra.size()).toBe(1);
    expect(sub.calls).toBe(1);
    await expect(store.extra.broken()).rejects.toBeInstanceOf(TypeError);
    expect(() => store.extra.refuse()).toThrow(UnavailableError);

    expect(await storeErrors(metrics, "extra.broken", "unexpected")).toBe(1);
    expect(await storeErrors(metrics, "extra.refuse", "unavailable")).toBe(1);
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
});
