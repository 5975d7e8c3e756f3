import type { CallOptions, Client } from "@connectrpc/connect";
import type { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import type { DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import type { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import type { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import type { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";

/** How a command line option is read; every command that names an option reads it the same way. */
export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
}

/** What a command was given: its positional arguments and its options. */
export interface CommandInput {
  readonly args: readonly string[];
  string(name: string): string | undefined;
  strings(name: string): string[];
  flag(name: string): boolean;
}

export interface AdminClients {
  readonly admin: Client<typeof TokenAdminService>;
  readonly dcr: Client<typeof DcrService>;
  readonly owners: Client<typeof OwnerService>;
  readonly upstreamTokens: Client<typeof UpstreamTokenService>;
  readonly authorization: Client<typeof AuthorizationService>;
}

/** What a command may reach; each part is built on first use, so `--help` and usage errors need no server or token. */
export interface CommandContext {
  clients(): AdminClients;
  /** The bearer the CLI was given (--token, the variable or the token file). */
  token(): string;
  /** Call options that send that bearer in the call's Authorization header. */
  asCaller(): CallOptions;
  /** The whole of the file at `path`, or of stdin for "-". */
  readInput(path: string): Promise<string>;
}

/** A response in both forms: the proto JSON for scripts and the text for people. */
export interface CommandResult {
  readonly json: string;
  readonly text: string;
  /** An authorization that was denied: printed like any answer, then the DENY exit code. */
  readonly denied?: boolean;
}

export interface Command {
  readonly name: string;
  /** Names of the positional arguments, e.g. ["<team_id>"]. */
  readonly arguments: readonly string[];
  /** The options besides the global ones. */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** One usage line after the group's name, e.g. "create --name NAME [--library LIB ...]". */
  readonly synopsis: string;
  readonly summary: string;
  run(input: CommandInput, context: CommandContext): Promise<CommandResult>;
}

/** A noun of the command line (`tokens`, `teams`, ...) with its verbs. */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
  /** Lines printed under the group's commands in its help. */
  readonly notes?: readonly string[];
}

/** A command line the CLI cannot read; it answers with its usage and the usage exit code. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The group whose usage explains the mistake; absent: the overall usage. */
    readonly group?: CommandGroup,
  ) {
    super(message);
  }
}

/** A local problem (a file it cannot read, no token to send): one line, the error exit code. */
export class InputError extends Error {}
