import type { Static, TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import { InvalidArgumentError } from "../errors.js";
import { ANNOTATION_KEYWORDS } from "./schema-kit.js";

/** Turns a key's path in the file (`jwt.issuers[0].audience`) into what the operator wrote, e.g. an environment variable. */
export type PathLabel = (path: string) => string;

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
};

/**
 * Compiles `schema` (whose values sit at `root` in the file) into a checker
 * that returns the value typed, or throws an InvalidArgumentError naming the
 * path of the first offending key and, for an unknown key, the closest known
 * one. Messages come from the schema, never from the value: a refused value
 * may be a root token or a password.
 */
export function schemaChecker<S extends TSchema>(schema: S, root = "") {
  const validate = compiled(schema);
  return (value: unknown, label: PathLabel = (path) => path): Static<S> => {
    if (validate(value)) return value as Static<S>;
    const { path, detail } = describe(reported(validate.errors ?? []), root);
    throw new InvalidArgumentError(label(path), detail);
  };
}

/**
 * Compiling the whole file's schema takes Ajv a few hundred milliseconds, and
 * schemas are constants: each is compiled once per process and kept with it.
 */
const compiledSchemas = new WeakMap<TSchema, ValidateFunction>();

function compiled(schema: TSchema): ValidateFunction {
  let validate = compiledSchemas.get(schema);
  if (validate === undefined) {
    // Optimizing the generated code would double the compile time of a check made once per start.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, code: { optimize: false } });
    ajv.addVocabulary([...ANNOTATION_KEYWORDS]);
    validate = ajv.compile(schema);
    compiledSchemas.set(schema, validate);
  }
  return validate;
}

/** The closest of `known` to `name`, when it is close enough to be a likely misspelling. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(name, known);
  return distance(name.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * The one error to report. An unknown key comes first: it explains a
 * required key that seems missing (`audience` written for `audiences`). A
 * union that fails reports every branch's errors besides its own; a branch
 * that failed deeper inside the value (a bad entry in a list) says more than
 * "fits no form", otherwise the union's own requirement is the message.
 */
function reported(errors: ErrorObject[]): ErrorObject {
  const unions = errors.filter((error) => error.keyword === "anyOf" || error.keyword === "oneOf");
  const branchOf = (error: ErrorObject, union: ErrorObject) => error !== union && error.schemaPath.startsWith(`${union.schemaPath}/`);
  const outer = errors.filter((error) => !unions.some((union) => branchOf(error, union)));
  const first = outer.find((error) => error.keyword === "additionalProperties") ?? outer[0]!;
  if (!unions.includes(first)) return first;
  const deeper = errors.filter((error) => branchOf(error, first) && error.instancePath.length > first.instancePath.length);
  return deeper.sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? first;
}

function describe(error: ErrorObject, root: string): { path: string; detail: string } {
  const path = pathOf(error.instancePath, root);
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((schema.properties as object | undefined) ?? {});
    const suggestion = closestName(key, known);
    const hint = suggestion === undefined ? `known keys: ${known.join(", ")}` : `did you mean ${suggestion}?`;
    // A key that resembles no known name may be a secret written in the wrong place: not echoed.
    if (suggestion === undefined && !/^[A-Za-z0-9_.-]{1,31}$/.test(key)) return { path, detail: `holds an unknown key (${hint})` };
    return { path: join(path, key), detail: `unknown key (${hint})` };
  }
  if (error.keyword === "required") {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    const about = ((schema.properties as Record<string, { description?: string }> | undefined) ?? {})[missing]?.description;
    return { path: join(path, missing), detail: about === undefined ? "is required" : `is required: ${about}` };
  }
  const message = schema["x-message"];
  return { path, detail: typeof message === "string" ? message : genericDetail(error) };
}

function genericDetail(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return `must be ${String(params.type).split(",").map((type) => TYPE_NAMES[type] ?? type).join(" or ")}`;
    case "minLength":
      return params.limit === 1 ? "must not be empty" : `must be at least ${String(params.limit)} characters`;
    case "minItems":
      return params.limit === 1 ? "must not be an empty list" : `must have at least ${String(params.limit)} entries`;
    case "minimum":
      return `must be at least ${String(params.limit)}`;
    case "maximum":
      return `must be at most ${String(params.limit)}`;
    case "const":
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(", ")}`;
    case "uniqueItems":
      return "must not list an entry twice";
    case "pattern":
      return "has the wrong form";
    default:
      return "is not allowed here";
  }
}

function pathOf(pointer: string, root: string): string {
  let path = root;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : join(path, segment);
  }
  return path;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
