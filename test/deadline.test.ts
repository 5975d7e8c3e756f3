import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { throwIfPast, untilDeadline } from "../src/deadline.js";
import { DeadlineExceededError } from "../src/errors.js";

function later<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

describe("waiting until a caller's deadline", () => {
  it("passes the work's value through and leaves no listener on the signal", async () => {
    const controller = new AbortController();
    const work = later<string>();
    const waited = untilDeadline(work.promise, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    work.resolve("keys");
    await expect(waited).resolves.toBe("keys");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("passes the work's failure through and leaves no listener on the signal", async () => {
    const controller = new AbortController();
    const work = later<string>();
    const waited = untilDeadline(work.promise, controller.signal);
    work.reject(new Error("IdP down"));
    await expect(waited).rejects.toThrow("IdP down");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("stops waiting when the signal fires, while the work goes on for whoever else waits", async () => {
    const controller = new AbortController();
    const work = later<string>();
    const waited = untilDeadline(work.promise, controller.signal);
    const other = untilDeadline(work.promise, undefined);
    controller.abort();
    await expect(waited).rejects.toBeInstanceOf(DeadlineExceededError);
    work.resolve("keys");
    await expect(other).resolves.toBe("keys");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("refuses at once past the deadline, and a later failure of the work is not left unhandled", async () => {
    const controller = new AbortController();
    controller.abort();
    const work = later<string>();
    await expect(untilDeadline(work.promise, controller.signal)).rejects.toBeInstanceOf(DeadlineExceededError);
    work.reject(new Error("late failure"));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expect(() => throwIfPast(controller.signal)).toThrow(DeadlineExceededError);
    expect(() => throwIfPast(new AbortController().signal)).not.toThrow();
    expect(() => throwIfPast(undefined)).not.toThrow();
  });

  it("leaves a long-lived signal with no listeners after many waits", async () => {
    const controller = new AbortController();
    for (let index = 0; index < 1000; index++) await untilDeadline(Promise.resolve(index), controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
