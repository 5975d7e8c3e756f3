import { toJsonString, type DescEnum, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { CommandResult } from "./cli-command.js";

/**
 * The response as proto JSON (every field, defaults included, so a script finds
 * each key whatever its value) beside the text a person reads.
 */
export function resultOf<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, text: string, denied = false): CommandResult {
  return { json: `${toJsonString(schema, message, { prettySpaces: 2, alwaysEmitImplicit: true })}\n`, text, denied };
}

/** Columns aligned by padding; the last column is not padded, so no line ends in spaces. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map(printable));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  const lines = cells.map((row) =>
    row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  "),
  );
  return `${lines.join("\n")}\n`;
}

/** One record as "label  value" lines. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return `${fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${printable(value)}`).join("\n")}\n`;
}

export function timeText(timestamp: Timestamp | undefined): string {
  return timestamp === undefined ? "-" : timestampDate(timestamp).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function listText(values: readonly string[]): string {
  return values.length === 0 ? "-" : values.join(",");
}

export function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

export function textOrDash(value: string): string {
  return value === "" ? "-" : value;
}

/** An enum value by its name without the enum's prefix, in lower case: TOKEN_KIND_TEAM_JWT reads "team_jwt". */
export function enumText(schema: DescEnum, value: number): string {
  return schema.value[value]?.localName.toLowerCase() ?? String(value);
}

/**
 * Names and ids are chosen by whoever created them; a control character in one
 * could move the cursor or recolour the terminal, so it is shown escaped.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
