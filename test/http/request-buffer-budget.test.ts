import { describe, expect, it } from "vitest";
import { CHUNK_OVERHEAD_BYTES, keep, keptCost, requestBufferBudget } from "../../src/http/request-buffer-budget.js";

/** A chunk as node:http2 hands it over: a slice of the socket read it arrived in. */
const sliceOfRead = (readBytes: number, start: number, length: number) =>
  Buffer.allocUnsafeSlow(readBytes).fill(7).subarray(start, start + length);

describe("what a request chunk is charged", () => {
  it("copies a chunk that is a small part of its socket read into memory of its own, charged at its length", () => {
    const chunk = sliceOfRead(64 * 1024, 1000, 1);
    const kept = keep(chunk);
    expect(kept).not.toBe(chunk);
    expect([...kept]).toEqual([7]);
    expect(kept.buffer.byteLength).toBe(1);
    expect(keptCost(kept, undefined)).toBe(1 + CHUNK_OVERHEAD_BYTES);
  });

  it("keeps a chunk that is a large part of its read as it is, charged at the whole read", () => {
    const chunk = sliceOfRead(20_000, 100, 16_384);
    expect(keep(chunk)).toBe(chunk);
    expect(keptCost(chunk, undefined)).toBe(20_000 + CHUNK_OVERHEAD_BYTES);
  });

  it("charges a stream's next chunk from a read it has paid for already only for its objects", () => {
    const read = Buffer.allocUnsafeSlow(64 * 1024);
    const [first, second] = [keep(read.subarray(0, 16_384)), keep(read.subarray(16_384, 32_768))];
    expect(keptCost(first, undefined)).toBe(64 * 1024 + CHUNK_OVERHEAD_BYTES);
    expect(keptCost(second, first.buffer)).toBe(CHUNK_OVERHEAD_BYTES);
    expect(keptCost(keep(Buffer.allocUnsafeSlow(20_000)), first.buffer)).toBe(20_000 + CHUNK_OVERHEAD_BYTES);
  });

  it("never charges a chunk more than four times its length plus the overhead", () => {
    for (const length of [1, 100, 16_383, 16_384, 16_385, 40_000, 65_536]) {
      const kept = keep(sliceOfRead(65_536, 0, length));
      expect(keptCost(kept, undefined)).toBeLessThanOrEqual(4 * length + CHUNK_OVERHEAD_BYTES);
      expect(keptCost(kept, undefined)).toBeGreaterThanOrEqual(length + CHUNK_OVERHEAD_BYTES);
    }
  });
});

describe("the request buffer budget", () => {
  it("charges each connection and the process, and gives both back on release", () => {
    const budget = requestBufferBudget({ maxBytes: 1000, maxBytesPerConnection: 600 });
    const first = budget.account({});
    const second = budget.account({});
    expect([budget.charge(first, 400), budget.charge(second, 300)]).toEqual([undefined, undefined]);
    expect([first.held, second.held, budget.held]).toEqual([400, 300, 700]);
    budget.release(first, 400);
    expect([first.held, second.held, budget.held]).toEqual([0, 300, 300]);
  });

  it("refuses a charge that would pass the connection's limit and charges nothing for it", () => {
    const budget = requestBufferBudget({ maxBytes: 1000, maxBytesPerConnection: 600 });
    const account = budget.account({});
    expect(budget.charge(account, 600)).toBeUndefined();
    expect(budget.charge(account, 1)).toBe("connection");
    expect([account.held, budget.held]).toEqual([600, 600]);
  });

  it("refuses a charge that would pass the process's limit, though the connection has room", () => {
    const budget = requestBufferBudget({ maxBytes: 1000, maxBytesPerConnection: 600 });
    const [one, two, three] = [budget.account({}), budget.account({}), budget.account({})];
    expect([budget.charge(one, 500), budget.charge(two, 450)]).toEqual([undefined, undefined]);
    expect(budget.charge(three, 51)).toBe("process");
    expect(budget.charge(three, 50)).toBeUndefined();
    expect([three.held, budget.held]).toEqual([50, 1000]);
  });

  it("finds the same account again for the same connection", () => {
    const budget = requestBufferBudget({ maxBytes: 1000, maxBytesPerConnection: 600 });
    const session = {};
    const account = budget.account(session);
    budget.charge(account, 500);
    expect(budget.account(session)).toBe(account);
    expect(budget.charge(budget.account(session), 200)).toBe("connection");
  });
});
