import {
  DeleteUpstreamTokenResponseSchema,
  DeleteUpstreamTokensResponseSchema,
  ListUpstreamTokensResponseSchema,
  type UpstreamTokenEntry,
} from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import { UsageError, type Command, type CommandGroup, type CommandInput } from "./cli-command.js";
import { listText, renderTable, resultOf, timeText, yesNo } from "./cli-output.js";

function required(input: CommandInput, option: string): string {
  const value = input.string(option);
  if (value === undefined || value === "") throw new UsageError(`upstream-token: --${option} is required`, upstreamTokenCommands);
  return value;
}

function entriesTable(entries: readonly UpstreamTokenEntry[]): string {
  return renderTable(
    ["UPSTREAM", "SCOPES", "EXPIRES", "REFRESHED", "REFRESHABLE", "CLIENT ID"],
    entries.map((entry) => [
      entry.upstreamId,
      listText(entry.scopes),
      entry.expiresAt === undefined ? "never" : timeText(entry.expiresAt),
      timeText(entry.refreshedAt),
      yesNo(entry.refreshable),
      entry.clientId,
    ]),
  );
}

const list: Command = {
  name: "list",
  arguments: [],
  options: { principal: { type: "string" } },
  synopsis: "list --principal P",
  summary: "a principal's kept upstream tokens (metadata only; tokens are never shown)",
  async run(input, context) {
    const response = await context.clients().upstreamTokens.listUpstreamTokens({ principal: required(input, "principal") }, context.asCaller());
    return resultOf(ListUpstreamTokensResponseSchema, response, entriesTable(response.entries));
  },
};

const remove: Command = {
  name: "delete",
  arguments: [],
  options: { principal: { type: "string" }, upstream: { type: "string" } },
  synopsis: "delete --principal P --upstream ID",
  summary: "forget one kept upstream token (the principal logs in upstream again)",
  async run(input, context) {
    const request = { principal: required(input, "principal"), upstreamId: required(input, "upstream") };
    const response = await context.clients().upstreamTokens.deleteUpstreamToken(request, context.asCaller());
    return resultOf(DeleteUpstreamTokenResponseSchema, response, "deleted\n");
  },
};

const removeAll: Command = {
  name: "delete-all",
  arguments: [],
  options: { principal: { type: "string" } },
  synopsis: "delete-all --principal P",
  summary: "forget every upstream token kept for a principal",
  async run(input, context) {
    const response = await context.clients().upstreamTokens.deleteUpstreamTokens({ principal: required(input, "principal") }, context.asCaller());
    return resultOf(DeleteUpstreamTokensResponseSchema, response, `deleted ${response.deleted}\n`);
  },
};

export const upstreamTokenCommands: CommandGroup = {
  name: "upstream-token",
  summary: "list and delete the upstream tokens kept for principals (the vault)",
  commands: [list, remove, removeAll],
  notes: ["Needs a root credential. Tokens are never printed, not even with --json."],
};
