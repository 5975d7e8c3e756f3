import { ADMIN_CLI_VARIABLES } from "./admin-cli-variables.js";
import { ownCommand } from "./cli-arguments.js";
import type { CommandGroup } from "./cli-command.js";
import { DEFAULT_TOKEN_FILE, DEFAULT_URL } from "./cli-connection.js";

export const EXIT = { ok: 0, error: 1, denied: 2, usage: 64 } as const;

const OPTIONS = `Options (before or after the command):
  --json             print the response as proto JSON, for scripts (default: a table for people)
  --url URL          the server, http:// or https:// (${ADMIN_CLI_VARIABLES.url}, default ${DEFAULT_URL})
  --token TOKEN      the token to send (${ADMIN_CLI_VARIABLES.token}; visible in ps: prefer the variable or a file)
  --token-file PATH  a file holding it (${ADMIN_CLI_VARIABLES.tokenFile}, default ${DEFAULT_TOKEN_FILE})
  --ca-file PATH     CA certificates that sign an https:// server's certificate (${ADMIN_CLI_VARIABLES.caFile})
  --cert-file PATH   a client certificate, for a server that asks for one (mTLS) (${ADMIN_CLI_VARIABLES.certFile})
  --key-file PATH    its private key (${ADMIN_CLI_VARIABLES.keyFile})
  -h, --help         this help; after a group, the group's commands

Exit status: ${EXIT.ok} done, ${EXIT.error} error (its gRPC code on stderr), ${EXIT.denied} authorize answered DENY, ${EXIT.usage} usage.
`;

function usageLines(what: string): string {
  return `Usage: portcullis-admin [options] ${what}\n   or: npm run -s admin -- [options] ${what}\n`;
}

export function overallUsage(groups: readonly CommandGroup[]): string {
  const width = Math.max(...groups.map((group) => group.name.length));
  const lines = groups.map((group) => `  ${group.name.padEnd(width)}  ${group.summary}`);
  return `${usageLines("<group> <command> [arguments]")}
Groups:
${lines.join("\n")}

"portcullis-admin <group> --help" lists a group's commands.

${OPTIONS}`;
}

export function groupUsage(group: CommandGroup): string {
  const own = ownCommand(group);
  const commands = group.commands.map((command) => {
    const synopsis = own !== undefined ? command.synopsis : `${group.name} ${command.synopsis}`;
    return `  ${synopsis}\n      ${command.summary}`;
  });
  const notes = (group.notes ?? []).map((line) => `${line}\n`).join("");
  return `${usageLines(own?.synopsis ?? `${group.name} <command> [arguments]`)}
Commands:
${commands.join("\n")}
${notes === "" ? "" : `\n${notes}`}
${OPTIONS}`;
}
