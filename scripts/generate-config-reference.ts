/**
 * Writes docs/portcullis.schema.json and the table of docs/configuration.md
 * (between its config-reference markers) from the configuration schema in
 * src/config/config-schema.ts. With --check, writes nothing and fails when
 * either is out of date (run by `npm test` through check-generated.sh).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configFileSchema } from "../src/config/config-schema.js";

type Node = Record<string, unknown> & { properties?: Record<string, Node>; items?: Node; required?: string[] };

const SCHEMA_PATH = fileURLToPath(new URL("../docs/portcullis.schema.json", import.meta.url));
const REFERENCE_PATH = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));
const START = "<!-- config-reference:start: generated from src/config/config-schema.ts by `npm run generate:config`; do not edit by hand -->";
const END = "<!-- config-reference:end -->";

const schemaText = `${JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", title: "Portcullis configuration", ...configFileSchema }, null, 2)}\n`;

function rows(node: Node, path: string, required: boolean): string[] {
  const expanded = node.properties !== undefined && node["x-env-format"] !== "yaml" && Object.values(node.properties).every((child) => child.description);
  if (expanded) {
    return Object.entries(node.properties!).flatMap(([key, child]) =>
      rows(child, path === "" ? key : `${path}.${key}`, node.required?.includes(key) ?? false),
    );
  }
  const own = row(node, path, required);
  const items = node.type === "array" ? node.items : undefined;
  if (items?.properties === undefined) return [own];
  return [own, ...rows(items, `${path}[]`, false)];
}

function row(node: Node, path: string, required: boolean): string {
  if (typeof node.description !== "string") throw new Error(`${path} has no description`);
  const env = typeof node["x-env"] === "string" ? `\`${node["x-env"]}\`` : "";
  return `| ${escape(node.description)} | ${env} | \`${path}\` | ${escape(defaultOf(node, required))} |`;
}

function defaultOf(node: Node, required: boolean): string {
  if (typeof node["x-default"] === "string") return node["x-default"];
  if (node.default === undefined) return required ? "required" : "none";
  const value = node.default;
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map((item) => `\`${String(item)}\``).join(", ");
  if (typeof value === "number" && value >= 1024 * 1024 && value % (1024 * 1024) === 0) return `\`${value}\` (${value / 1024 / 1024} MiB)`;
  return `\`${String(value)}\``;
}

function escape(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

const table = [
  "| setting | environment variable | file key | default |",
  "|---|---|---|---|",
  "| configuration file (YAML or JSON) | `PORTCULLIS_CONFIG` | | none |",
  ...rows(configFileSchema as unknown as Node, "", false),
].join("\n");

const reference = readFileSync(REFERENCE_PATH, "utf8");
const start = reference.indexOf(START);
const end = reference.indexOf(END);
if (start < 0 || end < start) throw new Error(`docs/configuration.md lacks the config-reference markers`);
const referenceText = `${reference.slice(0, start + START.length)}\n${table}\n${reference.slice(end)}`;

if (process.argv.includes("--check")) {
  const stale = [
    [SCHEMA_PATH, schemaText],
    [REFERENCE_PATH, referenceText],
  ].filter(([path, text]) => readFileSync(path!, "utf8") !== text);
  if (stale.length > 0) {
    console.error(`out of date with src/config/config-schema.ts: ${stale.map(([path]) => path).join(", ")}; run 'npm run generate:config' and commit`);
    process.exit(1);
  }
} else {
  writeFileSync(SCHEMA_PATH, schemaText);
  writeFileSync(REFERENCE_PATH, referenceText);
}
