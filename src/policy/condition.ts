import { celEnv, isCelError, parse, plan, type CelInput } from "@bufbuild/cel";
import { InvalidArgumentError } from "../errors.js";
import { checkCondition, CONDITION_LIMITS, ConditionTypeError } from "./condition-check.js";
import { describe, type CelType } from "./condition-types.js";

const STRING_LIST: CelType = { list: "string" };

/** The variables a `when` may read, with their types (README, Policy: conditions). */
const DECLARED: Readonly<Record<string, CelType>> = {
  request: {
    record: "request",
    fields: {
      method: "string",
      path: "string",
      host: "string",
      tool: "string",
      headers: { map: ["string", "string"] },
      source_address: "string",
    },
  },
  principal: {
    record: "principal",
    fields: {
      subject: "string",
      owner: "string",
      scopes: STRING_LIST,
      libraries: STRING_LIST,
      credential_type: "string",
      issuer: "string",
    },
  },
  claims: { map: ["string", "dyn"] },
};

/** What a condition reads of the request, as the engine hands it. */
export interface ConditionRequest {
  method: string;
  path: string;
  host: string;
  tool: string;
  /** Lower-case names. */
  headers: ReadonlyMap<string, string>;
  source_address: string;
}

export interface ConditionPrincipal {
  subject: string;
  owner: string;
  scopes: readonly string[];
  libraries: readonly string[];
  credential_type: string;
  issuer: string;
}

/** The activation; principal and claims only once a credential was verified. */
export interface ConditionVariables {
  request: ConditionRequest;
  principal?: ConditionPrincipal;
  claims?: Readonly<Record<string, unknown>>;
}

/** A condition's answer: true or false, or why it had none (which denies). */
export type ConditionOutcome = { value: boolean } | { error: string };

export interface Condition {
  /** Reads principal or claims: it can only be decided after the identity phase. */
  readonly needsIdentity: boolean;
  /** Reads request.host, which a request with a malformed host cannot give. */
  readonly readsHost: boolean;
  evaluate(variables: ConditionVariables): ConditionOutcome;
}

/**
 * Parses, type-checks and plans a rule's `when`; every problem is an
 * InvalidArgumentError naming `field`, so a bad condition stops start and
 * reload rather than failing on a request.
 */
export function compileCondition(source: string, field: string): Condition {
  const invalid = (detail: string) => new InvalidArgumentError(field, detail);
  if (source.trim() === "") throw invalid("must not be empty");
  if (source.length > CONDITION_LIMITS.maxLength) throw invalid(`is longer than ${CONDITION_LIMITS.maxLength} characters`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (error) {
    throw invalid(`does not parse: ${firstLine(error)}`);
  }
  let checked: ReturnType<typeof checkCondition>;
  try {
    checked = checkCondition(parsed.expr, DECLARED);
  } catch (error) {
    if (error instanceof ConditionTypeError) throw invalid(error.message);
    throw error;
  }
  if (checked.type !== "bool" && checked.type !== "dyn") throw invalid(`gives ${describe(checked.type)}, not bool`);
  const env = celEnv({ variables: { request: DECLARED.request, principal: DECLARED.principal, claims: DECLARED.claims } as never });
  const run = plan(env, parsed) as (bindings: Record<string, CelInput>) => unknown;
  const converted = new WeakMap<object, CelInput>();
  const reads = checked.variables;
  return {
    needsIdentity: reads.has("principal") || reads.has("claims"),
    readsHost: checked.requestFields.has("host"),
    evaluate(variables) {
      try {
        const result = run(bindingsOf(variables, reads, converted));
        if (isCelError(result)) return { error: result.message };
        // dyn at load (a claim read as a whole); anything but a bool now is an error, never a match.
        if (typeof result !== "boolean") return { error: "the condition did not give a bool" };
        return { value: result };
      } catch (error) {
        return { error: firstLine(error) };
      }
    },
  };
}

/**
 * The variables the expression reads, as CEL values; the others are left
 * unbound (a read the checker missed would then fail the condition, never
 * match). The verified-JWT cache hands out the same (frozen) claims object
 * for a token, so its conversion is kept with it.
 */
function bindingsOf(variables: ConditionVariables, reads: ReadonlySet<string>, converted: WeakMap<object, CelInput>): Record<string, CelInput> {
  const { request, principal, claims } = variables;
  const bindings: Record<string, CelInput> = {};
  if (reads.has("request")) {
    bindings.request = new Map<string, CelInput>([
      ["method", request.method],
      ["path", request.path],
      ["host", request.host],
      ["tool", request.tool],
      ["headers", new Map(request.headers)],
      ["source_address", request.source_address],
    ]);
  }
  if (principal === undefined) return bindings;
  if (reads.has("principal")) {
    bindings.principal = new Map<string, CelInput>([
      ["subject", principal.subject],
      ["owner", principal.owner],
      ["scopes", [...principal.scopes]],
      ["libraries", [...principal.libraries]],
      ["credential_type", principal.credential_type],
      ["issuer", principal.issuer],
    ]);
  }
  if (reads.has("claims")) {
    const source = claims ?? {};
    let claimValues = converted.get(source);
    if (claimValues === undefined) {
      claimValues = jsonToCel(source);
      converted.set(source, claimValues);
    }
    bindings.claims = claimValues;
  }
  return bindings;
}

/**
 * JSON claims as CEL values: objects become maps by their own keys (a claim
 * named `constructor` or `__proto__` is just a key), numbers stay doubles.
 */
function jsonToCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (typeof value === "object" && value !== null) {
    return new Map(Object.entries(value).map(([key, entry]) => [key, jsonToCel(entry)]));
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) return value;
  // Nothing else comes out of JSON; refused at evaluation rather than guessed.
  throw new Error(`a claim holds a ${typeof value}`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}
