import { Type, type TOptional, type TProperties } from "@sinclair/typebox";

/**
 * Building blocks for the configuration schema. The schema is written with
 * TypeBox: each builder returns plain JSON Schema, which Ajv checks and which
 * is published as docs/portcullis.schema.json, and TypeBox derives the file's
 * TypeScript types from the same objects (`Static<typeof schema>`), so the
 * shape is written once. (json-schema-to-ts's `FromSchema` also derives types,
 * but needs every schema as one `as const` literal and slows the type checker
 * on a schema this size; TypeBox composes per-section schemas as values.)
 *
 * Each setting carries its own annotations, registered with Ajv in
 * schema-check.ts: `x-env` names its environment variable, `x-env-format`
 * says how that variable's text becomes a value, `x-message` is the readable
 * requirement reported when a value breaks it, `x-default` describes a
 * default that is not one fixed value.
 */
export const ANNOTATION_KEYWORDS = ["x-env", "x-env-format", "x-message", "x-default"] as const;

/** How an environment variable's text becomes the value the schema checks. */
export type EnvFormat = "text" | "number" | "json" | "yaml" | "list" | "root-tokens";

export interface Setting {
  description: string;
  env?: string;
  /** Inferred from the schema's type for text, numbers and switches. */
  envFormat?: EnvFormat;
  default?: unknown;
  /** For the reference table, when the default is not one fixed value. */
  defaultText?: string;
}

export function annotations(setting: Setting, message?: string): Record<string, unknown> {
  return {
    description: setting.description,
    ...(setting.env === undefined ? {} : { "x-env": setting.env }),
    ...(setting.envFormat === undefined ? {} : { "x-env-format": setting.envFormat }),
    ...(setting.default === undefined ? {} : { default: setting.default }),
    ...(setting.defaultText === undefined ? {} : { "x-default": setting.defaultText }),
    ...(message === undefined ? {} : { "x-message": message }),
  };
}

type Optionals<P extends TProperties> = { [K in keyof P]: TOptional<P[K]> };

/**
 * A mapping that refuses every key it does not name: a misspelt key must
 * never be silently ignored. Keys in `optional` may be left out, keys in
 * `required` may not.
 */
export function section<O extends TProperties, R extends TProperties = {}>(about: string | Setting, optional: O, required?: R) {
  const properties = Object.fromEntries(Object.entries(optional).map(([key, schema]) => [key, Type.Optional(schema)])) as Optionals<O>;
  const setting = typeof about === "string" ? { description: about } : about;
  return Type.Object({ ...(required ?? ({} as R)), ...properties }, { ...annotations(setting), additionalProperties: false });
}

export const text = (setting: Setting) => Type.String({ minLength: 1, ...annotations(setting, "must be a non-empty string") });

export const positiveInteger = (setting: Setting) => Type.Integer({ minimum: 1, ...annotations(setting, "must be a positive integer") });

export const wholeNumber = (setting: Setting) =>
  Type.Integer({ minimum: 0, ...annotations(setting, "must be a whole number, 0 or more") });

/**
 * A switch, from the file or the environment: true/false or 1/0, nothing
 * else. YAML reads `no` and `off` as text, and a lax check would take any
 * text for "on" — `dev_allow_all: no` would allow everything.
 */
export const switchSetting = (setting: Setting) =>
  Type.Union(
    [Type.Boolean(), Type.Literal(1), Type.Literal(0), Type.Literal("true"), Type.Literal("false"), Type.Literal("1"), Type.Literal("0")],
    annotations(setting, "must be true or false (or 1 or 0)"),
  );

export type Switch = boolean | 0 | 1 | "true" | "false" | "1" | "0";

export function isOn(value: Switch | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : value === true || value === 1 || value === "true" || value === "1";
}

/** A non-empty list of non-empty strings. */
export const textList = (setting: Setting) =>
  Type.Array(Type.String({ minLength: 1, "x-message": "must be a non-empty string" }), {
    minItems: 1,
    ...annotations(setting, "must be a non-empty list of non-empty strings"),
  });
