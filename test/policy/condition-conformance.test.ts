import { celEnv, isCelError, isCelList, isCelMap, isCelUint, parse, plan, type CelInput } from "@bufbuild/cel";
import type { Type } from "@bufbuild/cel-spec/cel/expr/checked_pb.js";
import type { Value } from "@bufbuild/cel-spec/cel/expr/value_pb.js";
import { getConformanceSuite, type IncrementalTest } from "@bufbuild/cel-spec/testdata/tests.js";
import { describe, expect, it } from "vitest";
import { checkCondition, ConditionTypeError } from "../../src/policy/condition-check.js";
import type { CelType } from "../../src/policy/condition-types.js";

/**
 * The cel-spec conformance cases for the parts of CEL rule conditions rely
 * on, read from @bufbuild/cel-spec's data: string functions, `in`, lists,
 * maps, comparisons, logical operators with errors, has() and the macros
 * a condition may use.
 * Each runs through the load-time checker (src/policy/condition-check.ts)
 * and @bufbuild/cel's evaluator, as a condition does.
 */
const SUBSET: Record<string, string[]> = {
  string: ["size", "starts_with", "ends_with", "matches", "contains", "concatenation"],
  lists: ["concatenation", "index", "in", "size"],
  fields: ["map_fields", "map_has", "in"],
  comparisons: ["eq_literal", "ne_literal", "lt_literal", "gt_literal", "lte_literal", "gte_literal", "in_list_literal", "in_map_literal"],
  logic: ["AND", "OR", "NOT", "conditional"],
  // map and filter are refused at load (README, Policy: conditions, cost limit).
  macros: ["exists", "all", "exists_one"],
};

/**
 * No condition variable holds a protobuf message, timestamp or duration, and
 * the checker refuses message construction, so cases built on them are
 * outside the subset.
 */
const OUTSIDE = /google\.protobuf\.|TestAllTypes|\btimestamp\(|\bduration\(/;

/** Conformance types this harness declares variables with; anything else is outside the subset. */
function declaredType(type: Type | undefined): CelType {
  const kind = type?.typeKind;
  switch (kind?.case) {
    case "primitive":
      return (["bool", "bool", "int", "uint", "double", "string", "bytes"] as const)[kind.value] ?? "dyn";
    case "dyn":
      return "dyn";
    case "listType":
      return { list: declaredType(kind.value.elemType) };
    case "mapType":
      return { map: [declaredType(kind.value.keyType), declaredType(kind.value.valueType)] };
    default:
      throw new Error(`declaration of type ${kind?.case} is outside the subset`);
  }
}

/** A conformance Value as a comparable JS value (and as a binding). */
function plain(value: Value | undefined): unknown {
  const kind = value?.kind;
  switch (kind?.case) {
    case "nullValue":
      return null;
    case "boolValue":
    case "int64Value":
    case "doubleValue":
    case "stringValue":
    case "bytesValue":
      return kind.value;
    case "uint64Value":
      return { uint: kind.value };
    case "listValue":
      return kind.value.values.map(plain);
    case "mapValue":
      return new Map(kind.value.entries.map((entry) => [plain(entry.key), plain(entry.value)]));
    default:
      throw new Error(`value of kind ${kind?.case} is outside the subset`);
  }
}

/** An evaluation result in the same shape as `plain`. */
function plainResult(value: unknown): unknown {
  if (isCelUint(value)) return { uint: value.value };
  if (isCelList(value)) return [...value.values()].map(plainResult);
  if (isCelMap(value)) return new Map([...value.entries()].map(([key, entry]) => [plainResult(key), plainResult(entry)]));
  return value;
}

function binding(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(binding);
  if (value instanceof Map) return new Map([...value].map(([key, entry]) => [key as string | bigint | boolean, binding(entry)]));
  return value as CelInput;
}

type Outcome = { refused: string } | { error: string } | { value: unknown };

function run(test: IncrementalTest): Outcome {
  const { original } = test;
  const declared: Record<string, CelType> = {};
  for (const decl of original.typeEnv) {
    if (decl.declKind.case !== "ident") throw new Error(`declaration of a ${decl.declKind.case} is outside the subset`);
    declared[decl.name] = declaredType(decl.declKind.value.type);
  }
  const parsed = parse(original.expr);
  try {
    checkCondition(parsed.expr, declared);
  } catch (error) {
    if (!(error instanceof ConditionTypeError)) throw error;
    if (!original.disableCheck) return { refused: error.message };
  }
  const bindings = Object.fromEntries(Object.entries(original.bindings).map(([name, bound]) => {
    if (bound.kind.case !== "value") throw new Error("a binding that is not a value is outside the subset");
    return [name, binding(plain(bound.kind.value))];
  }));
  const result = plan(celEnv({ variables: {} }), parsed)(bindings);
  return isCelError(result) ? { error: result.message } : { value: plainResult(result) };
}

const cases = getConformanceSuite().suites.flatMap((section) =>
  section.suites
    .filter((part) => SUBSET[section.name]?.includes(part.name))
    .flatMap((part) => part.tests.filter((test) => !OUTSIDE.test(test.original.expr)).map((test) => [`${section.name}/${part.name}/${test.name}`, test] as const)),
);

describe("the cel-spec conformance cases rule conditions rely on", () => {
  it("are all found in the package's data", () => {
    const found = new Set(cases.map(([name]) => name.split("/").slice(0, 2).join("/")));
    const wanted = Object.entries(SUBSET).flatMap(([section, parts]) => parts.map((part) => `${section}/${part}`));
    expect([...found].sort()).toEqual(wanted.sort());
    expect(cases.length).toBeGreaterThan(300);
  });

  it.each(cases)("%s", (_name, test) => {
    const outcome = run(test);
    const expected = test.original.resultMatcher;
    if (expected.case === "value") {
      expect(outcome).toEqual({ value: plain(expected.value) });
    } else if (expected.case === "evalError" || expected.case === "anyEvalErrors") {
      // Refused at load is as good as an error: neither ever makes a rule match.
      expect(outcome).not.toHaveProperty("value");
    } else {
      throw new Error(`result matcher ${expected.case} is outside the subset`);
    }
  });
});
