import { Redis } from "ioredis";
import { InvalidationHub, type InvalidationListener } from "../invalidation.js";
import type { RedisSettings } from "./redis-connection.js";

/** How often the subscriber connection proves it is alive; a PING unanswered within the command timeout ends it. */
export const SUBSCRIBER_HEARTBEAT_MS = 1000;

const MESSAGE = /^(token|team|signing_key):(.+)$/s;

/** What the scripts publish on the invalidation channel for a changed record (`kid` for a signing key). */
export function invalidationMessage(kind: "token" | "team" | "signing_key", id: string): string {
  return `${kind}:${id}`;
}

export interface RedisInvalidations {
  watch(listener: InvalidationListener): () => void;
  close(): Promise<void>;
}

/**
 * The replica's end of the invalidation channel: a connection of its own in
 * subscriber mode. It counts as healthy only from the moment Redis confirms
 * the SUBSCRIBE until anything goes wrong with the connection (closed,
 * killed, a heartbeat unanswered); every loss and every recovery is told as
 * a health change, which empties the caches, so a message missed while the
 * connection was down can never keep a stale record in use.
 */
export function openRedisInvalidations(settings: RedisSettings, channel: string): RedisInvalidations {
  const hub = new InvalidationHub({ healthy: false, reason: "subscribing" });
  const subscriber = new Redis(settings.url, {
    username: settings.username,
    password: settings.password,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Resubscribing is ours to do, so the moment of confirmation is known.
    autoResubscribe: false,
    connectTimeout: Math.min(settings.commandTimeoutMs, 5000),
    commandTimeout: settings.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  });
  // A confirmation that arrives after its connection was lost must not count.
  let connection = 0;
  let healthy = false;
  let closed = false;
  const lose = (reason: string) => {
    connection++;
    if (!healthy) return;
    healthy = false;
    hub.health(false, reason);
  };
  subscriber.on("error", () => undefined);
  subscriber.on("close", () => lose("subscriber connection closed"));
  subscriber.on("ready", () => {
    const mine = connection;
    subscriber.subscribe(channel).then(
      () => {
        if (mine !== connection || closed) return;
        healthy = true;
        hub.health(true, "subscribed");
      },
      () => {
        if (mine !== connection || closed) return;
        lose("subscribe failed");
        subscriber.disconnect(true);
      },
    );
  });
  subscriber.on("message", (from: string, message: string) => {
    if (from !== channel) return;
    const match = MESSAGE.exec(message);
    if (match === null) hub.flush();
    else hub.changed(match[1] as "token" | "team" | "signing_key", match[2]!);
  });
  const heartbeat = setInterval(() => {
    if (!healthy) return;
    const mine = connection;
    subscriber.ping().catch(() => {
      if (mine !== connection || closed) return;
      // A silent connection may have lost messages already; reconnecting starts clean.
      lose("subscriber heartbeat unanswered");
      subscriber.disconnect(true);
    });
  }, SUBSCRIBER_HEARTBEAT_MS);
  heartbeat.unref();
  return {
    watch: (listener) => hub.watch(listener),
    async close() {
      closed = true;
      clearInterval(heartbeat);
      lose("store closed");
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
