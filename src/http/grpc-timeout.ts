import { Code, ConnectError } from "@connectrpc/connect";

/** `TimeoutValue TimeoutUnit` of the gRPC over HTTP/2 spec: at most 8 digits, then one unit letter. */
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };
/**
 * The longest wait setTimeout keeps (about 24.8 days); a longer one fires at
 * once. A deadline further away than this is as good as none.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The call's deadline from its `grpc-timeout` header, in milliseconds from
 * now (possibly 0 or a fraction of one); undefined when the call has none or
 * one beyond any timer. A malformed value is refused as connect-node refuses
 * it (INVALID_ARGUMENT), so both paths treat a call alike.
 */
export function grpcTimeoutMs(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === "string" ? GRPC_TIMEOUT.exec(value) : null;
  if (parsed === null) throw new ConnectError(`protocol error: invalid grpc timeout value: ${String(value)}`, Code.InvalidArgument);
  const milliseconds = Number(parsed[1]) * UNIT_MS[parsed[2]!]!;
  return milliseconds > MAX_TIMER_MS ? undefined : milliseconds;
}
