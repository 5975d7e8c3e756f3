import { Code, ConnectError } from "@connectrpc/connect";
import { readFile } from "node:fs/promises";
import { text } from "node:stream/consumers";
import { parseCommandLine, type GlobalValues, type Shortcuts } from "./cli-arguments.js";
import { InputError, UsageError, type AdminClients, type CommandContext, type CommandGroup } from "./cli-command.js";
import { createAdminClients, readToken } from "./cli-connection.js";
import { EXIT, groupUsage, overallUsage } from "./cli-usage.js";
import { authorizeCommand } from "./authorize-command.js";
import { dcrCommands } from "./dcr-commands.js";
import { upstreamTokenCommands } from "./upstream-token-commands.js";
import { keyCommands } from "./key-commands.js";
import { ownerCommands } from "./owner-commands.js";
import { teamCommands } from "./team-commands.js";
import { tokenCommands } from "./token-commands.js";

const GROUPS: readonly CommandGroup[] = [tokenCommands, teamCommands, ownerCommands, keyCommands, dcrCommands, upstreamTokenCommands, authorizeCommand];

const SHORTCUTS: Shortcuts = {
  mint: ["tokens", "mint"],
  list: ["tokens", "list"],
  get: ["tokens", "get"],
  revoke: ["tokens", "revoke"],
};

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream;
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** Runs one command line; answers the exit status. Nothing it throws reaches the user as a stack trace. */
export async function runAdminCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const line = parseCommandLine(argv, GROUPS, SHORTCUTS);
    if (line.kind === "help") {
      io.writeOut(line.group === undefined ? overallUsage(GROUPS) : groupUsage(line.group));
      return EXIT.ok;
    }
    const result = await line.command.run(line.input, commandContext(line.globals, io));
    io.writeOut(line.globals.json ? result.json : result.text);
    return result.denied === true ? EXIT.denied : EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  }
}

function commandContext(globals: GlobalValues, io: CliIo): CommandContext {
  let clients: AdminClients | undefined;
  let token: string | undefined;
  const bearer = () => (token ??= readToken(globals, io.env));
  return {
    clients: () => (clients ??= createAdminClients(globals, io.env)),
    token: bearer,
    asCaller: () => ({ headers: { authorization: `Bearer ${bearer()}` } }),
    readInput: async (path) => {
      try {
        return path === "-" ? await text(io.stdin) : await readFile(path, "utf8");
      } catch (error) {
        throw new InputError(`cannot read ${path === "-" ? "stdin" : path} (${(error as NodeJS.ErrnoException).code})`);
      }
    },
  };
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    const message = error.message === "" ? "" : `portcullis-admin: ${error.message}\n\n`;
    io.writeErr(`${message}${error.group === undefined ? overallUsage(GROUPS) : groupUsage(error.group)}`);
    return EXIT.usage;
  }
  if (error instanceof InputError) {
    io.writeErr(`portcullis-admin: ${oneLine(error.message)}\n`);
    return EXIT.error;
  }
  // Whatever else failed (the call, the connection, a bug) is reported as a gRPC status, Unknown at worst.
  const connectError = ConnectError.from(error);
  io.writeErr(`portcullis-admin: ${Code[connectError.code]}: ${oneLine(connectError.rawMessage)}\n`);
  return EXIT.error;
}

function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, " ");
}
