import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceError } from "@grpc/grpc-js";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import type { Clients } from "../support/clients.js";
import type { EnvoyClient, HttpAttributes } from "../support/envoy-client.js";

/** How one transport answered a bad input: a decision with its reason, or a refused call with its code. */
export type Verdict = `allow:${string}` | `deny:${string}` | `error:${string}`;

export interface AuthorizeInput {
  authorization: string;
  resource: string;
  host?: string;
}

export async function authorizeVerdict(clients: Clients, input: AuthorizeInput): Promise<Verdict> {
  try {
    const answer = await clients.authorization.authorize(input, { timeoutMs: 10_000 });
    return `${answer.decision === Decision.ALLOW ? "allow" : "deny"}:${answer.reason}`;
  } catch (error) {
    return `error:${Code[ConnectError.from(error).code]}`;
  }
}

export async function checkVerdict(envoy: EnvoyClient, attributes: HttpAttributes): Promise<Verdict> {
  try {
    const answer = await envoy.check(attributes, {}, { deadline: Date.now() + 10_000 });
    return answer.status?.code === 0 ? "allow:ok" : `deny:${answer.status?.message ?? ""}`;
  } catch (error) {
    return `error:${(error as ServiceError).code}`;
  }
}

export const isAllow = (verdict: Verdict) => verdict.startsWith("allow:");

/**
 * The inputs that `output` echoes beyond `prefixLength` characters: any
 * window of that length plus one, taken at the start, middle and end of an
 * input, found in the output.
 */
export function echoedInputs(output: string, inputs: Iterable<string>, prefixLength: number): string[] {
  const echoed: string[] = [];
  for (const input of inputs) {
    if (input.length <= prefixLength) continue;
    const window = prefixLength + 1;
    const middle = Math.floor((input.length - window) / 2);
    const slices = [input.slice(0, window), input.slice(middle, middle + window), input.slice(-window)];
    if (slices.some((slice) => output.includes(slice))) echoed.push(input.slice(0, 40));
  }
  return echoed;
}

/** The credentials that occur in `output` at all (their last 24 characters, which masking must never leave). */
export function leakedCredentials(output: string, credentials: Iterable<string>): string[] {
  return [...credentials].filter((credential) => credential.length >= 24 && output.includes(credential.slice(-24)));
}
