/**
 * The static types a rule condition is checked with (condition-check.ts).
 * `@bufbuild/cel` plans and evaluates but does not type-check yet, so the
 * checker covers the subset of CEL a condition may use, and refuses
 * everything else at load (an unknown function, a misspelt field,
 * `principal.scopes == 'x'`) rather than leaving it to fail on a request.
 */
export type CelType =
  | "bool"
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bytes"
  | "null"
  | "dyn"
  | { list: CelType }
  | { map: [CelType, CelType] }
  | { record: string; fields: Readonly<Record<string, CelType>> };

/** The common type of two, dyn standing for any; undefined when they cannot meet. */
export function join(a: CelType, b: CelType): CelType | undefined {
  if (a === "dyn" || b === "dyn") return "dyn";
  if (typeof a === "string" || typeof b === "string") return a === b ? a : undefined;
  if ("list" in a && "list" in b) {
    const element = join(a.list, b.list);
    return element === undefined ? undefined : { list: element };
  }
  if ("map" in a && "map" in b) {
    const key = join(a.map[0], b.map[0]);
    const value = join(a.map[1], b.map[1]);
    return key === undefined || value === undefined ? undefined : { map: [key, value] };
  }
  if ("record" in a && "record" in b) return a.record === b.record ? a : undefined;
  return undefined;
}

/** For literals: elements of different types make a list (or map) of dyn, as CEL's checker does. */
export function joinLoosely(a: CelType | undefined, b: CelType): CelType {
  return a === undefined ? b : (join(a, b) ?? "dyn");
}

export function assignable(from: CelType, to: CelType): boolean {
  return join(from, to) !== undefined;
}

export function describe(type: CelType): string {
  if (typeof type === "string") return type;
  if ("list" in type) return `list(${describe(type.list)})`;
  if ("map" in type) return `map(${describe(type.map[0])}, ${describe(type.map[1])})`;
  return type.record;
}
