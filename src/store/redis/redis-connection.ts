import { Redis } from "ioredis";
import { UnavailableError } from "../../errors.js";
import { createRedisClient, type RedisClient, type RedisSettings } from "./redis-topology.js";
import { coalesceWrites } from "./redis-write-coalescing.js";

export type { RedisClient, RedisSettings } from "./redis-topology.js";

/**
 * Opens the command client of the configured topology and waits until it is
 * ready. While Redis is away calls fail fast (Unavailable); the client
 * reconnects, follows a Sentinel failover and refreshes a Cluster's slots in
 * the background.
 */
export async function connectRedis(settings: RedisSettings, startupTimeoutMs: number): Promise<RedisClient> {
  const client = createRedisClient(settings);
  // Connection errors surface through the commands that fail; without a
  // listener ioredis would report each reconnect attempt as unhandled.
  client.on("error", () => undefined);
  if (client instanceof Redis) {
    reopenWhenEndedByItself(client);
    coalesceWrites(client);
  }
  try {
    await waitForReady(client, startupTimeoutMs);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** How long an ended connection waits before it is opened again. */
const REOPEN_DELAY_MS = 100;

/**
 * ioredis gives a connection up for good when a Sentinel failover notice
 * (`failoverDetector`) drops it while it is still being opened: the
 * connector fails with "Connection is closed.", the client goes from
 * "connecting" straight to "end" and never reconnects, so every later call
 * of that replica answers Unavailable until a restart. Only a disconnect or
 * quit of ours may end it (ioredis marks those `manuallyClosing`, and they
 * pass through "close"); any other end is opened again.
 */
function reopenWhenEndedByItself(client: Redis): void {
  const closedByUs = () => (client as unknown as { manuallyClosing?: boolean }).manuallyClosing === true;
  let previous: string = client.status;
  for (const status of ["connecting", "connect", "ready", "close", "reconnecting"]) client.on(status, () => (previous = status));
  client.on("end", () => {
    if (previous !== "connecting" || closedByUs()) return;
    setTimeout(() => {
      if (client.status === "end" && !closedByUs()) client.connect().catch(() => undefined);
    }, REOPEN_DELAY_MS).unref();
  });
}

function waitForReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Says why (refused, wrong password, TLS) instead of only that it timed out.
    let lastError = "";
    // A Cluster reports "Failed to refresh slots cache" and keeps the node's own reason (a wrong password …) beside it.
    const onError = (error: Error & { lastNodeError?: Error }) =>
      (lastError = `: ${error.message}${error.lastNodeError === undefined ? "" : ` (${error.lastNodeError.message})`}`);
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
    // Ours already (a write short of its replicas): it says what happened.
    if (error instanceof UnavailableError) throw error;
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
