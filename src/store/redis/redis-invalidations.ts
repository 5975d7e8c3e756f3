import type { Redis } from "ioredis";
import { InvalidationHub, type InvalidationListener, type RecordKind } from "../invalidation.js";
import { createSubscriberConnection, type RedisSettings } from "./redis-topology.js";

/** How often the subscriber connection proves it is alive; a PING unanswered within the command timeout ends it. */
export const SUBSCRIBER_HEARTBEAT_MS = 1000;

/** A Cluster subscriber whose node went away tries the next one after this pause. */
const NEXT_NODE_DELAY_MS = 200;

const MESSAGE = /^(token|team|signing_key|owner):(.+)$/s;

/** What the scripts publish on the invalidation channel for a changed record (`kid` for a signing key). */
export function invalidationMessage(kind: RecordKind, id: string): string {
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
 *
 * On a Cluster a PUBLISH reaches every node, so the subscriber listens on one
 * configured node; when that connection ends (the node died) it moves on to
 * the next one. Standalone and Sentinel connections reconnect by themselves
 * (Sentinel to whichever master the sentinels name).
 */
export function openRedisInvalidations(settings: RedisSettings, channel: string): RedisInvalidations {
  const hub = new InvalidationHub({ healthy: false, reason: "subscribing" });
  // A confirmation that arrives after its connection was lost must not count.
  let connection = 0;
  let healthy = false;
  let closed = false;
  let node = 0;
  let nextNode: NodeJS.Timeout | undefined;
  const lose = (reason: string) => {
    connection++;
    if (!healthy) return;
    healthy = false;
    hub.health(false, reason);
  };
  const attach = (subscriber: Redis): Redis => {
    subscriber.on("error", () => undefined);
    subscriber.on("close", () => lose("subscriber connection closed"));
    subscriber.on("end", () => {
      if (closed) return;
      node++;
      nextNode = setTimeout(() => (current = attach(createSubscriberConnection(settings, node))), NEXT_NODE_DELAY_MS);
    });
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
      else hub.changed(match[1] as RecordKind, match[2]!);
    });
    return subscriber;
  };
  let current = attach(createSubscriberConnection(settings, node));
  const heartbeat = setInterval(() => {
    if (!healthy) return;
    const mine = connection;
    const subscriber = current;
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
      clearTimeout(nextNode);
      lose("store closed");
      await current.quit().catch(() => current.disconnect());
    },
  };
}
