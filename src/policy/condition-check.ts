import type { Constant, Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { assignable, describe, join, joinLoosely, type CelType } from "./condition-types.js";

/*
 * The load-time checker of a rule condition: types every node of the parsed
 * expression (macros expanded) against the declared variables, refuses what
 * is outside the supported subset of CEL, and bounds what one evaluation can
 * cost. It runs once per rule at load, never on a request.
 */

/** The bounds that keep one evaluation cheap (README, Policy: conditions). */
export const CONDITION_LIMITS = {
  /** Characters of the expression as written. */
  maxLength: 2048,
  /** Nodes of the parsed expression, macros expanded. */
  maxNodes: 200,
  /** Depth of the parsed expression. */
  maxDepth: 24,
  /** Macros (all, exists, exists_one) inside one another. */
  maxComprehensionNesting: 1,
  /** Macros in one condition, each of which walks a whole list or map. */
  maxMacros: 3,
  /** Calls of `matches`, each of which compiles its pattern. */
  maxMatches: 4,
};

export class ConditionTypeError extends Error {}

/** What the checker learnt: the result type, and which variables and request fields the expression reads. */
export interface CheckedCondition {
  type: CelType;
  variables: ReadonlySet<string>;
  requestFields: ReadonlySet<string>;
}

/** Conversions take any argument (one that cannot convert is a run-time error) and give the named type. */
const CONVERSIONS: Record<string, CelType> = {
  string: "string",
  int: "int",
  uint: "uint",
  double: "double",
  bool: "bool",
  bytes: "bytes",
  dyn: "dyn",
};

const NUMERIC = new Set<CelType>(["int", "uint", "double"]);
const ORDERED = new Set<CelType>(["int", "uint", "double", "string", "bytes", "bool"]);
const STRING_METHODS = new Set(["startsWith", "endsWith", "contains", "matches"]);

/** Type-checks `expr` against the declared variables. Throws ConditionTypeError. */
export function checkCondition(expr: Expr, declared: Readonly<Record<string, CelType>>): CheckedCondition {
  const variables = new Set<string>();
  const requestFields = new Set<string>();
  let nodes = 0;
  let matches = 0;
  let macros = 0;

  function visit(node: Expr, scope: ReadonlyMap<string, CelType>, depth: number, nesting: number): CelType {
    nodes += 1;
    if (nodes > CONDITION_LIMITS.maxNodes) fail(`is larger than ${CONDITION_LIMITS.maxNodes} nodes`);
    if (depth > CONDITION_LIMITS.maxDepth) fail(`nests deeper than ${CONDITION_LIMITS.maxDepth}`);
    const sub = (child: Expr | undefined, inner: ReadonlyMap<string, CelType> = scope, deeper = nesting) =>
      child === undefined ? fail("is incomplete") : visit(child, inner, depth + 1, deeper);
    const kind = node.exprKind;
    switch (kind.case) {
      case "constExpr":
        return constantType(kind.value);
      case "identExpr": {
        const local = scope.get(kind.value.name);
        if (local !== undefined) return local;
        const global = declared[kind.value.name];
        if (global === undefined) fail(`undeclared reference to '${kind.value.name}'`);
        variables.add(kind.value.name);
        return global;
      }
      case "selectExpr": {
        const { operand, field, testOnly } = kind.value;
        if (operand?.exprKind.case === "identExpr" && operand.exprKind.value.name === "request" && !scope.has("request")) {
          requestFields.add(field);
        }
        const fieldType = selected(sub(operand), field);
        return testOnly ? "bool" : fieldType;
      }
      case "callExpr": {
        const { function: name, args } = kind.value;
        if (name === "matches") {
          // The evaluator compiles the pattern on every call: never once per element, and a few times at most.
          if (nesting > 0) fail("calls matches inside a macro");
          matches += 1;
          if (matches > CONDITION_LIMITS.maxMatches) fail(`calls matches more than ${CONDITION_LIMITS.maxMatches} times`);
        }
        const target = kind.value.target === undefined ? undefined : sub(kind.value.target);
        return callType(name, target, args.map((arg) => sub(arg)));
      }
      case "listExpr": {
        if (kind.value.optionalIndices.length > 0) fail("optional list elements are not supported");
        return { list: kind.value.elements.map((element) => sub(element)).reduce<CelType | undefined>(joinLoosely, undefined) ?? "dyn" };
      }
      case "structExpr": {
        if (kind.value.messageName !== "") fail(`message construction (${kind.value.messageName}) is not supported`);
        let key: CelType | undefined;
        let value: CelType | undefined;
        for (const entry of kind.value.entries) {
          if (entry.optionalEntry || entry.keyKind.case !== "mapKey") fail("only plain map literals are supported");
          const keyType = sub(entry.keyKind.value);
          if (!["string", "int", "uint", "bool", "dyn"].includes(keyType as string)) fail(`a map key cannot be ${describe(keyType)}`);
          key = joinLoosely(key, keyType);
          value = joinLoosely(value, sub(entry.value));
        }
        return { map: [key ?? "dyn", value ?? "dyn"] };
      }
      case "comprehensionExpr": {
        const loop = kind.value;
        if (nesting >= CONDITION_LIMITS.maxComprehensionNesting) {
          fail(`nests macros (all, exists, exists_one) more than ${CONDITION_LIMITS.maxComprehensionNesting} deep`);
        }
        macros += 1;
        if (macros > CONDITION_LIMITS.maxMacros) fail(`uses more than ${CONDITION_LIMITS.maxMacros} macros`);
        // Every element costs a step, so a macro walks only a list or map as given, never one built by concatenation.
        if (!readAsGiven(loop.iterRange)) fail("a macro may iterate only a variable's list or map, or a literal one");
        const range = sub(loop.iterRange);
        const accuInit = sub(loop.accuInit);
        // map and filter build their result by repeated concatenation, a cost that grows with the square of the list.
        if (typeof accuInit === "object") fail("map and filter are not supported: use all, exists or exists_one");
        const [first, second] = iterationTypes(range, loop.iterVar2 !== "");
        const inner = new Map(scope);
        inner.set(loop.iterVar, first);
        if (loop.iterVar2 !== "") inner.set(loop.iterVar2, second);
        inner.set(loop.accuVar, accuInit);
        expectBool(sub(loop.loopCondition, inner, nesting + 1), "a loop condition");
        const step = sub(loop.loopStep, inner, nesting + 1);
        const accu = join(accuInit, step) ?? fail(`a loop step gives ${describe(step)} where ${describe(accuInit)} is kept`);
        inner.set(loop.accuVar, accu);
        return sub(loop.result, inner, nesting + 1);
      }
      default:
        return fail("has an empty expression");
    }
  }

  const type = visit(expr, new Map(), 0, 0);
  return { type, variables, requestFields };
}

/** A variable, a field or element of one (by a literal key), or a literal list or map. */
function readAsGiven(expr: Expr | undefined): boolean {
  const kind = expr?.exprKind;
  switch (kind?.case) {
    case "identExpr":
    case "listExpr":
    case "structExpr":
      return true;
    case "selectExpr":
      return !kind.value.testOnly && readAsGiven(kind.value.operand);
    case "callExpr":
      return kind.value.function === "_[_]" && kind.value.args[1]?.exprKind.case === "constExpr" && readAsGiven(kind.value.args[0]);
    default:
      return false;
  }
}

function constantType(constant: Constant): CelType {
  switch (constant.constantKind.case) {
    case "boolValue":
      return "bool";
    case "int64Value":
      return "int";
    case "uint64Value":
      return "uint";
    case "doubleValue":
      return "double";
    case "stringValue":
      return "string";
    case "bytesValue":
      return "bytes";
    case "nullValue":
      return "null";
    default:
      return fail("has an unsupported literal");
  }
}

function selected(operand: CelType, field: string): CelType {
  if (operand === "dyn") return "dyn";
  if (typeof operand === "object" && "record" in operand) {
    const type = operand.fields[field];
    if (type === undefined) fail(`${operand.record} has no field '${field}' (it has ${Object.keys(operand.fields).join(", ")})`);
    return type;
  }
  if (typeof operand === "object" && "map" in operand && assignable(operand.map[0], "string")) return operand.map[1];
  return fail(`cannot select '${field}' from ${describe(operand)}`);
}

function iterationTypes(range: CelType, twoVariables: boolean): [CelType, CelType] {
  if (range === "dyn") return ["dyn", "dyn"];
  if (typeof range === "object" && "list" in range) return twoVariables ? ["int", range.list] : [range.list, "dyn"];
  if (typeof range === "object" && "map" in range) return [range.map[0], range.map[1]];
  return fail(`cannot iterate over ${describe(range)}`);
}

function callType(name: string, target: CelType | undefined, args: CelType[]): CelType {
  const [a, b, c] = args;
  const arity = (count: number, method = false) => {
    if (args.length !== count || (target !== undefined) !== method) fail(`'${name}' takes ${count} argument${count === 1 ? "" : "s"}${method ? " on a receiver" : ""}`);
  };
  switch (name) {
    case "_&&_":
    case "_||_":
      arity(2);
      expectBool(a!, name);
      expectBool(b!, name);
      return "bool";
    case "!_":
    case "@not_strictly_false":
      arity(1);
      expectBool(a!, name);
      return "bool";
    case "_?_:_":
      arity(3);
      expectBool(a!, "a condition");
      return join(b!, c!) ?? fail(`the branches of ?: give ${describe(b!)} and ${describe(c!)}`);
    case "_==_":
    case "_!=_":
      arity(2);
      if (join(a!, b!) === undefined && a !== "null" && b !== "null") fail(`cannot compare ${describe(a!)} with ${describe(b!)}`);
      return "bool";
    case "_<_":
    case "_<=_":
    case "_>_":
    case "_>=_":
      arity(2);
      if (!ordered(a!, b!)) fail(`cannot order ${describe(a!)} and ${describe(b!)}`);
      return "bool";
    case "_+_":
      arity(2);
      return arithmetic(name, a!, b!, (type) => NUMERIC.has(type) || type === "string" || type === "bytes" || (typeof type === "object" && "list" in type));
    case "_-_":
    case "_*_":
    case "_/_":
      arity(2);
      return arithmetic(name, a!, b!, (type) => NUMERIC.has(type));
    case "_%_":
      arity(2);
      return arithmetic(name, a!, b!, (type) => type === "int" || type === "uint");
    case "-_":
      arity(1);
      if (a !== "int" && a !== "double" && a !== "dyn") fail(`cannot negate ${describe(a!)}`);
      return a!;
    case "_[_]":
      arity(2);
      return indexed(a!, b!);
    case "@in":
      arity(2);
      return membership(a!, b!);
    case "size": {
      const sized = target ?? a;
      if (args.length !== (target === undefined ? 1 : 0)) fail("'size' takes one argument");
      if (!(sized === "string" || sized === "bytes" || sized === "dyn" || (typeof sized === "object" && !("record" in sized)))) {
        fail(`cannot take the size of ${describe(sized!)}`);
      }
      return "int";
    }
    default:
      if (STRING_METHODS.has(name)) {
        arity(1, true);
        if (!assignable(target!, "string") || !assignable(a!, "string")) fail(`'${name}' applies to strings`);
        return "bool";
      }
      if (name in CONVERSIONS) {
        arity(1);
        return CONVERSIONS[name]!;
      }
      return fail(`unknown function '${name}'`);
  }
}

function arithmetic(name: string, a: CelType, b: CelType, allowed: (type: CelType) => boolean): CelType {
  const joined = join(a, b);
  if (joined === undefined || (joined !== "dyn" && !allowed(joined))) fail(`'${operatorText(name)}' does not apply to ${describe(a)} and ${describe(b)}`);
  return joined;
}

function indexed(container: CelType, index: CelType): CelType {
  if (container === "dyn") return "dyn";
  if (typeof container === "object" && "list" in container) {
    if (!assignable(index, "int") && !assignable(index, "uint")) fail(`a list index cannot be ${describe(index)}`);
    return container.list;
  }
  if (typeof container === "object" && "map" in container) {
    if (!assignable(index, container.map[0])) fail(`a key of ${describe(container)} cannot be ${describe(index)}`);
    return container.map[1];
  }
  return fail(`cannot index ${describe(container)}${typeof container === "object" ? " (select its fields with '.')" : ""}`);
}

function membership(element: CelType, container: CelType): CelType {
  if (container === "dyn") return "bool";
  if (typeof container === "object" && "list" in container && join(element, container.list) !== undefined) return "bool";
  if (typeof container === "object" && "map" in container && join(element, container.map[0]) !== undefined) return "bool";
  return fail(`cannot look for ${describe(element)} in ${describe(container)}`);
}

function ordered(a: CelType, b: CelType): boolean {
  if (a === "dyn" || b === "dyn") return true;
  if (NUMERIC.has(a) && NUMERIC.has(b)) return true;
  return a === b && ORDERED.has(a);
}

function expectBool(type: CelType, where: string): void {
  if (type !== "bool" && type !== "dyn") fail(`${operatorText(where)} needs bool, not ${describe(type)}`);
}

function operatorText(name: string): string {
  return name.replace(/^@/, "").replaceAll("_", "");
}

function fail(message: string): never {
  throw new ConditionTypeError(message);
}
