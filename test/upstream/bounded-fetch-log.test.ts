import { describe, expect, it } from "vitest";
import { toConnectError } from "../../src/api/error-mapping.js";
import { UnavailableError } from "../../src/errors.js";
import { boundedFetch } from "../../src/upstream/bounded-fetch.js";
import { captureLog } from "../support/captured-log.js";
import { closedPort } from "../support/probe-targets.js";

const LIMITS = { timeoutMs: 2000, maxBytes: 1024 };
const PASSWORD = "hunter2-in-the-url";
const QUERY_SECRET = "api-key-in-the-query";

async function failureOf(url: string): Promise<UnavailableError> {
  const failure = await boundedFetch(url, {}, LIMITS, "JWKS").then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(UnavailableError);
  return failure as UnavailableError;
}

describe("an upstream fetch that fails, as the log sees it", () => {
  it("logs what went wrong and where, without the URL's credentials or query", async () => {
    const port = await closedPort();
    const captured = captureLog();
    for (const url of [
      `http://user:${PASSWORD}@127.0.0.1:${port}/keys?api_key=${QUERY_SECRET}`,
      `http://127.0.0.1:${port}/keys?api_key=${QUERY_SECRET}`,
    ]) {
      const wire = toConnectError(await failureOf(url), captured.log);
      expect(wire.rawMessage).not.toContain(QUERY_SECRET);
    }

    const text = captured.text();
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(QUERY_SECRET);
    const [withCredentials, refused] = captured.entries();
    expect(withCredentials).toMatchObject({ detail: `TypeError at http://127.0.0.1:${port}/keys` });
    expect(refused).toMatchObject({ detail: `TypeError (ECONNREFUSED) at http://127.0.0.1:${port}/keys` });
    for (const entry of [withCredentials, refused]) expect(entry).not.toHaveProperty("err");
  });
});
