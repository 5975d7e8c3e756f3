/** Limits for fetching a document from an identity provider. */
export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { timeoutMs: 5000, maxBytes: 256 * 1024 };

/** An identity provider document could not be fetched or read; the message is safe to log. */
export class FetchFailure extends Error {}

/**
 * GETs `url` and parses its JSON body, within a time limit (the whole
 * exchange, body included) and a size cap. Redirects are refused: a key set
 * is fetched from exactly the configured place.
 */
export async function fetchJson(url: string, limits: FetchLimits): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(limits.timeoutMs),
      redirect: "error",
      headers: { accept: "application/json" },
    });
  } catch (error) {
    throw new FetchFailure(`GET ${url} failed: ${describe(error)}`, { cause: error });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchFailure(`GET ${url} answered HTTP ${response.status}`);
  }
  const text = await readCapped(url, response, limits.maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new FetchFailure(`GET ${url} answered something that is not JSON`);
  }
}

async function readCapped(url: string, response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchFailure(`GET ${url} answered ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new FetchFailure(`GET ${url} answered more than the ${maxBytes} bytes allowed`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FetchFailure) throw error;
    throw new FetchFailure(`GET ${url} failed while reading: ${describe(error)}`, { cause: error });
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "timed out";
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error instanceof Error ? error.message : "unknown error");
}
