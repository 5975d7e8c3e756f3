/**
 * Memory the lean gRPC path holds for request bodies, from a stream's first
 * byte until its call is answered: counted for the whole process and for
 * each HTTP/2 connection, so that one client can fill its own share but
 * never the others'.
 *
 * A chunk node:http2 hands over is a slice of the socket read it arrived
 * in, and keeps all of that read alive. Charging the slice's length alone
 * would let a 1-byte chunk hold 64 KiB unseen; charging the whole read for
 * every slice let 1-byte frames on many streams, sent in one read with a
 * large frame, fill the process budget with a few hundred kilobytes. So a
 * chunk that is a small part of its read is copied out (see `keep`), and
 * every chunk is charged what it keeps alive: never more than
 * PINNED_READ_RATIO times its length, plus what the Buffer object costs.
 * A stream's next chunk from a read it has already paid for costs only
 * the latter, so a large body in 16 KiB frames counts about its own size.
 */

/** A chunk kept as a slice may keep a read up to this many times its length alive; a smaller part is copied. */
const PINNED_READ_RATIO = 4;
/**
 * The JS objects behind each kept chunk (Buffer, ArrayBuffer, its array
 * slot), charged on top of its bytes so that a flood of 1-byte frames
 * counts too. Measured on Node 20: about 220 bytes of heap and 380 of RSS
 * for a 1-byte copy.
 */
export const CHUNK_OVERHEAD_BYTES = 384;

export interface RequestBufferLimits {
  /** Across every connection. */
  maxBytes: number;
  /** Across the streams of one HTTP/2 connection. */
  maxBytesPerConnection: number;
}

/** What one connection holds now; one object per connection, found again by its session. */
export interface ConnectionAccount {
  held: number;
}

/** The limit a charge would have passed. */
export type BudgetRefusal = "connection" | "process";

export interface RequestBufferBudget {
  /** Bytes charged now, across every connection. */
  readonly held: number;
  /** The account of `connection` (an HTTP/2 session), opened on first use and dropped with the session. */
  account(connection: object): ConnectionAccount;
  /** Charges `bytes` to the account and the process, or nothing and says which limit it would have passed. */
  charge(account: ConnectionAccount, bytes: number): BudgetRefusal | undefined;
  release(account: ConnectionAccount, bytes: number): void;
}

export function requestBufferBudget(limits: RequestBufferLimits): RequestBufferBudget {
  let held = 0;
  // Weak: a closed session's account goes with it. Its streams have all closed by then, releasing what they held.
  const accounts = new WeakMap<object, ConnectionAccount>();
  return {
    get held() {
      return held;
    },
    account(connection) {
      let account = accounts.get(connection);
      if (account === undefined) {
        account = { held: 0 };
        accounts.set(connection, account);
      }
      return account;
    },
    charge(account, bytes) {
      if (account.held + bytes > limits.maxBytesPerConnection) return "connection";
      if (held + bytes > limits.maxBytes) return "process";
      account.held += bytes;
      held += bytes;
      return undefined;
    },
    release(account, bytes) {
      account.held -= bytes;
      held -= bytes;
    },
  };
}

/**
 * `chunk` as a request body may keep it: itself when it is a large part of
 * the socket read behind it, else a copy of exactly its bytes, so the read
 * can be freed.
 */
export function keep(chunk: Buffer): Buffer {
  if (chunk.length * PINNED_READ_RATIO >= chunk.buffer.byteLength) return chunk;
  // allocUnsafeSlow: a memory block of its own, not a slice of node's shared pool.
  const copy = Buffer.allocUnsafeSlow(chunk.length);
  chunk.copy(copy);
  return copy;
}

/**
 * What keeping `kept` (an answer of `keep`) costs: the memory block it keeps
 * alive, unless `paidFor` is that block already, and its objects.
 */
export function keptCost(kept: Buffer, paidFor: ArrayBufferLike | undefined): number {
  return (kept.buffer === paidFor ? 0 : kept.buffer.byteLength) + CHUNK_OVERHEAD_BYTES;
}
