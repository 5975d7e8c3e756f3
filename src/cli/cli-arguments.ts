import { parseArgs } from "node:util";
import { UsageError, type Command, type CommandGroup, type CommandInput, type OptionSpec } from "./cli-command.js";

/** Options every command takes: where the server is, which token to send, the output form. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface GlobalValues {
  url?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  json: boolean;
}

export type CommandLine =
  | { kind: "help"; group?: CommandGroup }
  | { kind: "run"; group: CommandGroup; command: Command; input: CommandInput; globals: GlobalValues };

/** Words that stand for a longer command: the token commands kept their short forms. */
export type Shortcuts = Readonly<Record<string, readonly [group: string, command: string]>>;

type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * Reads argv in one pass over the options of every command (so an option's
 * value is never taken for a command word), then checks that each option given
 * belongs to the command found.
 */
export function parseCommandLine(argv: readonly string[], groups: readonly CommandGroup[], shortcuts: Shortcuts): CommandLine {
  const options = allOptions(groups);
  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(argv, options);
  } catch (error) {
    if (!isParseError(error)) throw error;
    // Name the group the mistake was made in, so its usage is the one shown.
    const { positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false });
    throw new UsageError(error.message, findGroup(groups, expand(positionals, shortcuts)[0]));
  }
  const values = parsed.values as ParsedValues;
  const words = expand(parsed.positionals, shortcuts);
  if (words[0] === "help") return { kind: "help", group: words[1] === undefined ? undefined : knownGroup(groups, words[1]) };
  if (words[0] === undefined) {
    if (values.help === true) return { kind: "help" };
    throw new UsageError("");
  }
  const group = knownGroup(groups, words[0]);
  if (values.help === true) return { kind: "help", group };
  const { command, args } = findCommand(group, words.slice(1));
  for (const token of parsed.tokens) {
    if (token.kind === "option" && !(token.name in GLOBAL_OPTIONS) && !(token.name in command.options)) {
      throw new UsageError(`${commandName(group, command)}: unknown option ${token.rawName}`, group);
    }
  }
  checkArgumentCount(group, command, args);
  return { kind: "run", group, command, input: commandInput(args, values), globals: globalValues(values) };
}

export function commandName(group: CommandGroup, command: Command): string {
  return group.name === command.name ? group.name : `${group.name} ${command.name}`;
}

function strictParse(argv: readonly string[], options: Record<string, OptionSpec & { short?: string }>) {
  return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
}

function isParseError(error: unknown): error is TypeError {
  return error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
}

function allOptions(groups: readonly CommandGroup[]): Record<string, OptionSpec & { short?: string }> {
  const options: Record<string, OptionSpec & { short?: string }> = { ...GLOBAL_OPTIONS };
  for (const command of groups.flatMap((group) => group.commands)) {
    for (const [name, spec] of Object.entries(command.options)) {
      const known = options[name];
      // One reading per option name, whichever command names it.
      if (known !== undefined && (known.type !== spec.type || Boolean(known.multiple) !== Boolean(spec.multiple))) {
        throw new Error(`option --${name} is declared two ways`);
      }
      options[name] = spec;
    }
  }
  return options;
}

function expand(positionals: readonly string[], shortcuts: Shortcuts): string[] {
  const [first, ...rest] = positionals;
  const shortcut = first === undefined ? undefined : shortcuts[first];
  return shortcut === undefined ? [...positionals] : [...shortcut, ...rest];
}

function findGroup(groups: readonly CommandGroup[], name: string | undefined): CommandGroup | undefined {
  return groups.find((group) => group.name === name);
}

function knownGroup(groups: readonly CommandGroup[], name: string): CommandGroup {
  const group = findGroup(groups, name);
  if (group === undefined) throw new UsageError(`unknown command: ${name}`);
  return group;
}

/** A group with a command of its own name (authorize) is that command; any other takes a command word. */
export function ownCommand(group: CommandGroup): Command | undefined {
  return group.commands.find((command) => command.name === group.name);
}

function findCommand(group: CommandGroup, words: string[]): { command: Command; args: string[] } {
  const own = ownCommand(group);
  if (own !== undefined) return { command: own, args: words };
  const [name, ...args] = words;
  if (name === undefined) throw new UsageError(`${group.name}: which command? (${group.commands.map((c) => c.name).join(", ")})`, group);
  const command = group.commands.find((candidate) => candidate.name === name);
  if (command === undefined) throw new UsageError(`unknown command: ${group.name} ${name}`, group);
  return { command, args };
}

function checkArgumentCount(group: CommandGroup, command: Command, args: readonly string[]): void {
  const name = commandName(group, command);
  if (args.length < command.arguments.length) throw new UsageError(`${name} needs ${command.arguments.slice(args.length).join(" ")}`, group);
  if (args.length > command.arguments.length) throw new UsageError(`${name}: unexpected argument "${args[command.arguments.length]}"`, group);
}

function commandInput(args: readonly string[], values: ParsedValues): CommandInput {
  return {
    args,
    string: (name) => {
      const value = values[name];
      return typeof value === "string" ? value : undefined;
    },
    strings: (name) => {
      const value = values[name];
      return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
    },
    flag: (name) => values[name] === true,
  };
}

function globalValues(values: ParsedValues): GlobalValues {
  const text = (name: keyof typeof GLOBAL_OPTIONS) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  return {
    url: text("url"),
    token: text("token"),
    tokenFile: text("token-file"),
    caFile: text("ca-file"),
    certFile: text("cert-file"),
    keyFile: text("key-file"),
    json: values.json === true,
  };
}
