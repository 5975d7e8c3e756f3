import { Code, ConnectError } from "@connectrpc/connect";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, type Clients } from "../support/clients.js";
import type { EnvoyClient } from "../support/envoy-client.js";
import type { TokenLedger } from "./token-ledger.js";

/** One replica as the load reaches it: Connect clients and an Envoy Check client. */
export interface Target {
  clients: Clients;
  envoy: EnvoyClient;
}

export type Outcome = "allow" | "deny" | "unavailable" | "deadline" | "error";
export type OperationKind = "authorize" | "check" | "mint" | "revoke";

export interface Sample {
  kind: OperationKind;
  replica: number;
  /** The token a decision asked about or a revoke named. */
  secret?: string;
  outcome: Outcome;
  startedAt: number;
  ms: number;
  /** For an unexpected error: its code and message. */
  detail?: string;
}

/** The scope minted tokens get, and what the test policy requires of `GET /api/kafka/…`. */
export const LOAD_SCOPE = "kafka:read";
const RESOURCE = { method: "GET", path: "/api/kafka/topics" };

export interface LoadOptions {
  rootToken: string;
  /** Calls in flight at once. */
  concurrency: number;
  /** Every call's deadline. */
  deadlineMs: number;
  /** Share of operations that mint, and that revoke (the rest decide, half Authorize, half Check). */
  mintShare?: number;
  revokeShare?: number;
  /** Stop after this many operations (no bound without). */
  maxOperations?: number;
}

export interface MixedLoad {
  readonly samples: Sample[];
  /** Ends the load and waits for the calls in flight. */
  stop(): Promise<void>;
  /** Resolves when `maxOperations` were driven (or stop() was called). */
  readonly done: Promise<void>;
}

function pick<T>(items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];
}

function connectOutcome(error: unknown): { outcome: Outcome; detail?: string } {
  const connectError = ConnectError.from(error);
  if (connectError.code === Code.Unavailable) return { outcome: "unavailable" };
  if (connectError.code === Code.DeadlineExceeded) return { outcome: "deadline" };
  return { outcome: "error", detail: `${Code[connectError.code]}: ${connectError.rawMessage}` };
}

function grpcOutcome(error: ServiceError): { outcome: Outcome; detail?: string } {
  if (error.code === grpcStatus.UNAVAILABLE) return { outcome: "unavailable" };
  if (error.code === grpcStatus.DEADLINE_EXCEEDED) return { outcome: "deadline" };
  return { outcome: "error", detail: `${error.code}: ${error.details}` };
}

/** A token to decide about: mostly valid ones, some revoked, some never minted. */
function decisionSecret(ledger: TokenLedger): string {
  const roll = Math.random();
  const candidates = roll < 0.6 ? [...ledger.valid.keys()] : roll < 0.8 ? [...ledger.revoked.keys()] : ledger.unknown;
  return pick(candidates) ?? pick(ledger.unknown)!;
}

/** Authorize as a gateway asks it for `GET /api/kafka/topics`. */
export async function authorizeOutcome(target: Target, secret: string, deadlineMs: number): Promise<{ outcome: Outcome; detail?: string }> {
  try {
    const answer = await target.clients.authorization.authorize(
      { authorization: `Bearer ${secret}`, resource: `${RESOURCE.method} ${RESOURCE.path}` },
      { timeoutMs: deadlineMs },
    );
    return { outcome: answer.decision === Decision.ALLOW ? "allow" : "deny" };
  } catch (error) {
    return connectOutcome(error);
  }
}

/** Check as Envoy's ext_authz filter asks it for the same request. */
export async function checkOutcome(target: Target, secret: string, deadlineMs: number): Promise<{ outcome: Outcome; detail?: string }> {
  try {
    const answer = await target.envoy.check(
      { ...RESOURCE, headers: { authorization: `Bearer ${secret}` } },
      {},
      { deadline: Date.now() + deadlineMs },
    );
    return { outcome: answer.status?.code === 0 ? "allow" : "deny" };
  } catch (error) {
    return grpcOutcome(error as ServiceError);
  }
}

/**
 * Mixed Authorize / Check / mint / revoke traffic over `targets`, each call
 * on a replica picked at random, until stopped. Every acknowledged write goes
 * into `ledger`; every call becomes a sample.
 */
export function startMixedLoad(targets: readonly Target[], ledger: TokenLedger, options: LoadOptions): MixedLoad {
  const samples: Sample[] = [];
  const mintShare = options.mintShare ?? 0.1;
  const revokeShare = options.revokeShare ?? 0.1;
  const asRoot = { ...bearer(options.rootToken), timeoutMs: options.deadlineMs };
  let stopped = false;
  let started = 0;

  async function one(): Promise<void> {
    const replica = Math.floor(Math.random() * targets.length);
    const target = targets[replica]!;
    const startedAt = Date.now();
    const roll = Math.random();
    let sample: Omit<Sample, "ms" | "startedAt" | "replica">;
    if (roll < mintShare) {
      try {
        const minted = await target.clients.admin.mintToken({ scopes: [LOAD_SCOPE], name: "load" }, asRoot);
        ledger.minted(minted.token, minted.record!.tokenId);
        sample = { kind: "mint", outcome: "allow" };
      } catch (error) {
        sample = { kind: "mint", ...connectOutcome(error) };
      }
    } else if (roll < mintShare + revokeShare && ledger.valid.size > 0) {
      const [secret, tokenId] = pick([...ledger.valid.entries()])!;
      // Taken out of the valid set before the call: while it is in flight the token is neither valid nor revoked.
      ledger.uncertain(secret);
      try {
        await target.clients.admin.revokeToken({ tokenId }, asRoot);
        ledger.revokedAt(secret, Date.now());
        sample = { kind: "revoke", secret, outcome: "allow" };
      } catch (error) {
        // A store emptied under the load no longer holds the token: the revoke is refused, and rightly.
        const notFound = ConnectError.from(error).code === Code.NotFound;
        sample = { kind: "revoke", secret, ...(notFound ? { outcome: "deny" as const } : connectOutcome(error)) };
      }
    } else {
      const secret = decisionSecret(ledger);
      const kind = Math.random() < 0.5 ? "authorize" : "check";
      const result = await (kind === "authorize" ? authorizeOutcome : checkOutcome)(target, secret, options.deadlineMs);
      sample = { kind, secret, ...result };
    }
    samples.push({ ...sample, replica, startedAt, ms: Date.now() - startedAt });
  }

  const more = () => !stopped && (options.maxOperations === undefined || started < options.maxOperations);
  const workers = Array.from({ length: options.concurrency }, async () => {
    while (more()) {
      started++;
      await one();
    }
  });
  const done = Promise.all(workers).then(() => undefined);
  return {
    samples,
    done,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** The decisions among `samples` that allowed a token `ledger` says was revoked (past `propagationMs`) or never minted. */
export function wrongfulAllows(samples: readonly Sample[], ledger: TokenLedger, propagationMs: number): Sample[] {
  return samples.filter(
    (sample) =>
      (sample.kind === "authorize" || sample.kind === "check") &&
      sample.outcome === "allow" &&
      ledger.wrongfulAllow(sample.secret!, sample.startedAt, propagationMs),
  );
}

/**
 * Asked once more of every target after the load: the ALLOWs (Authorize or
 * Check) for the `revoked` secrets, and the tokens `ledger` holds valid
 * that Authorize no longer allows.
 */
export async function finalAnswers(
  targets: readonly Target[],
  ledger: TokenLedger,
  revoked: readonly string[],
  deadlineMs: number,
): Promise<{ wrongfulAllows: number; tokensLost: number }> {
  let wrongful = 0;
  let lost = 0;
  for (const target of targets) {
    for (const secret of revoked) {
      if ((await authorizeOutcome(target, secret, deadlineMs)).outcome === "allow") wrongful++;
      if ((await checkOutcome(target, secret, deadlineMs)).outcome === "allow") wrongful++;
    }
    for (const secret of ledger.valid.keys()) if ((await authorizeOutcome(target, secret, deadlineMs)).outcome !== "allow") lost++;
  }
  return { wrongfulAllows: wrongful, tokensLost: lost };
}
