import {
  DeactivateTokenResponseSchema,
  GetTokenResponseSchema,
  ListTokensResponseSchema,
  MintTokenResponseSchema,
  ReactivateTokenResponseSchema,
  RevokeTokenResponseSchema,
  SourceSchema,
  TokenKind,
  TokenKindSchema,
  type TokenRecord,
} from "../../gen/portcullis/v1/token_admin_pb.js";
import { UsageError, type Command, type CommandGroup } from "./cli-command.js";
import { enumText, listText, renderFields, renderTable, resultOf, textOrDash, timeText, yesNo } from "./cli-output.js";

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function parseTtl(text: string): { seconds: bigint } {
  const match = /^(\d{1,10})([smhd]?)$/.exec(text);
  if (match === null) throw new UsageError(`--ttl: expected a number with an optional unit s, m, h or d, got "${text}"`, tokenCommands);
  return { seconds: BigInt(Number(match[1]) * TTL_UNITS[match[2] || "s"]!) };
}

function recordText(record: TokenRecord | undefined): string {
  if (record === undefined) return "";
  return renderFields([
    ["token id", record.tokenId],
    ["kind", enumText(TokenKindSchema, record.kind)],
    ["name", textOrDash(record.name)],
    ["team", textOrDash(record.teamId)],
    ["owner", textOrDash(record.owner)],
    ["scopes", listText(record.scopes)],
    ["libraries", listText(record.allowedLibraries)],
    ["tools", listText(record.allowedTools)],
    ["source", enumText(SourceSchema, record.source)],
    ["active", yesNo(record.active)],
    ["created", timeText(record.createdAt)],
    ["expires", timeText(record.expiresAt)],
    ["last used", timeText(record.lastUsedAt)],
    ["revoked", timeText(record.revokedAt)],
    ["deactivated", timeText(record.deactivatedAt)],
  ]);
}

function tokensTable(records: readonly TokenRecord[]): string {
  return renderTable(
    ["TOKEN ID", "KIND", "NAME", "TEAM", "OWNER", "SCOPES", "LIBRARIES", "SOURCE", "ACTIVE", "EXPIRES", "LAST USED"],
    records.map((record) => [
      record.tokenId,
      enumText(TokenKindSchema, record.kind),
      textOrDash(record.name),
      textOrDash(record.teamId),
      textOrDash(record.owner),
      listText(record.scopes),
      listText(record.allowedLibraries),
      enumText(SourceSchema, record.source),
      yesNo(record.active),
      timeText(record.expiresAt),
      timeText(record.lastUsedAt),
    ]),
  );
}

const mint: Command = {
  name: "mint",
  arguments: [],
  options: {
    scope: { type: "string", multiple: true },
    name: { type: "string" },
    library: { type: "string", multiple: true },
    tool: { type: "string", multiple: true },
    ttl: { type: "string" },
    team: { type: "string" },
    owner: { type: "string" },
  },
  synopsis:
    "mint --scope S [--scope S ...] [--name N] [--library L ...] [--tool T ...] [--ttl 90s|15m|12h|30d] [--team TEAM_ID] [--owner USER_ID]",
  summary: "an opaque token, or with --team a team JWT (it replaces the team's previous token); the secret is shown this once",
  async run(input, context) {
    const ttl = input.string("ttl");
    const team = input.string("team");
    const request = {
      scopes: input.strings("scope"),
      name: input.string("name") ?? "",
      allowedLibraries: input.strings("library"),
      allowedTools: input.strings("tool"),
      ttl: ttl === undefined ? undefined : parseTtl(ttl),
      owner: input.string("owner") ?? "",
      ...(team === undefined ? {} : { kind: TokenKind.TEAM_JWT, teamId: team }),
    };
    const response = await context.clients().admin.mintToken(request, context.asCaller());
    const secret = `\nThe token, shown this once only (it cannot be read again; keep it like a password):\n\n  ${response.token}\n`;
    return resultOf(MintTokenResponseSchema, response, `${recordText(response.record)}${secret}`);
  },
};

const list: Command = {
  name: "list",
  arguments: [],
  options: {},
  synopsis: "list",
  summary: "opaque and team tokens, without their secrets",
  async run(_input, context) {
    const response = await context.clients().admin.listTokens({}, context.asCaller());
    return resultOf(ListTokensResponseSchema, response, tokensTable(response.tokens));
  },
};

const get: Command = {
  name: "get",
  arguments: ["<token_id>"],
  options: {},
  synopsis: "get <token_id>",
  summary: "one token's record",
  async run(input, context) {
    const response = await context.clients().admin.getToken({ tokenId: input.args[0] }, context.asCaller());
    return resultOf(GetTokenResponseSchema, response, recordText(response.record));
  },
};

const revoke: Command = {
  name: "revoke",
  arguments: ["<token_id>"],
  options: {},
  synopsis: "revoke <token_id>",
  summary: "at once on every replica; a team token leaves its team without a valid token until the next mint",
  async run(input, context) {
    const response = await context.clients().admin.revokeToken({ tokenId: input.args[0] }, context.asCaller());
    return resultOf(RevokeTokenResponseSchema, response, recordText(response.record));
  },
};

const deactivate: Command = {
  name: "deactivate",
  arguments: ["<token_id>"],
  options: {},
  synopsis: "deactivate <token_id>",
  summary: "refuse an opaque token (token_inactive) at once on every replica, without revoking it",
  async run(input, context) {
    const response = await context.clients().admin.deactivateToken({ tokenId: input.args[0] }, context.asCaller());
    return resultOf(DeactivateTokenResponseSchema, response, recordText(response.record));
  },
};

const reactivate: Command = {
  name: "reactivate",
  arguments: ["<token_id>"],
  options: {},
  synopsis: "reactivate <token_id>",
  summary: "accept a deactivated token again",
  async run(input, context) {
    const response = await context.clients().admin.reactivateToken({ tokenId: input.args[0] }, context.asCaller());
    return resultOf(ReactivateTokenResponseSchema, response, recordText(response.record));
  },
};

export const tokenCommands: CommandGroup = {
  name: "tokens",
  summary: "mint, list, show, revoke, deactivate and reactivate tokens",
  commands: [mint, list, get, revoke, deactivate, reactivate],
  notes: ["mint, list, get and revoke also work without the word \"tokens\" (portcullis-admin list)."],
};
