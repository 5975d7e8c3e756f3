import { Redis, type RedisOptions } from "ioredis";
import { readFileSync } from "node:fs";
import { InvalidArgumentError, UnavailableError } from "../../errors.js";

export interface RedisSettings {
  url: string;
  username?: string;
  password?: string;
  /** Upper bound for one command; a slower Redis counts as unavailable. */
  commandTimeoutMs: number;
  /** `rediss://`: PEM file of the CAs the server's certificate must chain to. */
  tlsCaFile?: string;
}

/**
 * Opens a client that fails fast while Redis is away (no offline queue), so
 * decisions turn into Unavailable instead of piling up, and reconnects in
 * the background so service resumes without a restart.
 */
export async function connectRedis(settings: RedisSettings, startupTimeoutMs: number): Promise<Redis> {
  const client = new Redis(settings.url, {
    ...redisTlsOptions(settings),
    username: settings.username,
    password: settings.password,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.min(settings.commandTimeoutMs, 5000),
    commandTimeout: settings.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
  // Connection errors surface through the commands that fail; without a
  // listener ioredis would report each reconnect attempt as unhandled.
  client.on("error", () => undefined);
  try {
    await waitForReady(client, startupTimeoutMs);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/**
 * A `rediss://` URL alone makes ioredis verify the server against the
 * system's CAs; a private CA replaces them. The host name (or IP) of the URL
 * is still checked against the certificate.
 */
export function redisTlsOptions(settings: Pick<RedisSettings, "tlsCaFile">): Pick<RedisOptions, "tls"> {
  if (settings.tlsCaFile === undefined) return {};
  let ca: Buffer;
  try {
    ca = readFileSync(settings.tlsCaFile);
  } catch (error) {
    throw new InvalidArgumentError("redis.tls_ca_file", `cannot read ${settings.tlsCaFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  return { tls: { ca, rejectUnauthorized: true } };
}

function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Says why (refused, wrong password, TLS) instead of only that it timed out.
    let lastError = "";
    const onError = (error: Error) => (lastError = `: ${error.message}`);
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      client.off("error", onError);
      reject(new UnavailableError(`redis did not answer within ${timeoutMs} ms${lastError}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      client.off("error", onError);
      resolve();
    };
    client.once("ready", onReady);
    client.on("error", onError);
  });
}

/**
 * Runs a Redis operation; any failure of Redis itself becomes UnavailableError.
 * The ioredis error is never kept as its cause: it carries the command with
 * every argument (signing keys, client secrets, PKCE verifiers), and a log
 * serializer would copy them into the log.
 */
export async function redisCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new UnavailableError("redis unavailable", { detail: redisFailure(error) });
  }
}

/** The error's name and the first line of its message: what went wrong, never with what. */
function redisFailure(error: unknown): string {
  if (!(error instanceof Error)) return "unknown failure";
  const firstLine = error.message.split("\n", 1)[0] ?? "";
  // Redis quotes the arguments of a command it does not know.
  const withoutArguments = firstLine.replace(/,? with args beginning with:.*$/, "");
  return `${error.name}: ${withoutArguments.slice(0, 200)}`;
}
