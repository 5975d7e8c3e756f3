import { toJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AuthorizationService, AuthorizeResponseSchema } from "../../gen/portcullis/v1/authorization_pb.js";
import {
  GetTokenResponseSchema,
  ListTokensResponseSchema,
  MintTokenResponseSchema,
  RevokeTokenResponseSchema,
  TokenAdminService,
  TokenKind,
} from "../../gen/portcullis/v1/token_admin_pb.js";
import { ADMIN_CLI_VARIABLES } from "./admin-cli-variables.js";

const USAGE = `Usage: npm run -s admin -- [options] <command>

Commands:
  mint --scope S [--scope S ...] [--name N] [--library L ...] [--tool T ...] [--ttl 90s|15m|12h|30d]
  mint --team TEAM_ID --scope S [--scope S ...] [--name N] [--ttl ...]
                     a team JWT; it replaces the team's previous token
  list               opaque and team tokens ("kind")
  get <token_id>
  revoke <token_id>  a team token: the team has no valid token until the next mint
  authorize <resource> [--required-scope S]   decide <resource> for the token below

Options:
  --url URL          server (PORTCULLIS_URL, default http://127.0.0.1:8080)
  --token TOKEN      token to send (else PORTCULLIS_ADMIN_TOKEN, else the token file)
  --token-file PATH  file holding it (PORTCULLIS_ADMIN_TOKEN_FILE, default ./data/root.token)
`;

class UsageError extends Error {}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function parseTtl(text: string): { seconds: bigint } {
  const match = /^(\d{1,10})([smhd]?)$/.exec(text);
  if (match === null) throw new UsageError(`--ttl: expected a number with an optional unit s, m, h or d, got "${text}"`);
  return { seconds: BigInt(Number(match[1]) * TTL_UNITS[match[2] || "s"]!) };
}

function readToken(token: string | undefined, file: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = token ?? env[ADMIN_CLI_VARIABLES.token];
  if (given !== undefined && given !== "") return given;
  const path = file ?? env[ADMIN_CLI_VARIABLES.tokenFile] ?? "./data/root.token";
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new UsageError(
      `no token: pass --token, set PORTCULLIS_ADMIN_TOKEN, or point --token-file at a file (${path}: ${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

function print<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): void {
  process.stdout.write(`${toJsonString(schema, message, { prettySpaces: 2, alwaysEmitImplicit: true })}\n`);
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
      scope: { type: "string", multiple: true },
      name: { type: "string" },
      library: { type: "string", multiple: true },
      tool: { type: "string", multiple: true },
      ttl: { type: "string" },
      team: { type: "string" },
      "required-scope": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, argument, ...extra] = positionals;
  if (values.help || command === undefined) throw new UsageError("");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const needsArgument = command === "get" || command === "revoke" || command === "authorize";
  if (needsArgument !== (argument !== undefined)) {
    throw new UsageError(needsArgument ? `${command} needs an argument` : `${command} takes no argument`);
  }

  const transport = createGrpcTransport({ baseUrl: values.url ?? env[ADMIN_CLI_VARIABLES.url] ?? "http://127.0.0.1:8080" });
  const admin = createClient(TokenAdminService, transport);
  const token = readToken(values.token, values["token-file"], env);
  const call = { headers: { authorization: `Bearer ${token}` } };
  switch (command) {
    case "mint": {
      const request = {
        scopes: values.scope ?? [],
        name: values.name ?? "",
        allowedLibraries: values.library ?? [],
        allowedTools: values.tool ?? [],
        ttl: values.ttl === undefined ? undefined : parseTtl(values.ttl),
        ...(values.team === undefined ? {} : { kind: TokenKind.TEAM_JWT, teamId: values.team }),
      };
      return print(MintTokenResponseSchema, await admin.mintToken(request, call));
    }
    case "list":
      return print(ListTokensResponseSchema, await admin.listTokens({}, call));
    case "get":
      return print(GetTokenResponseSchema, await admin.getToken({ tokenId: argument }, call));
    case "revoke":
      return print(RevokeTokenResponseSchema, await admin.revokeToken({ tokenId: argument }, call));
    case "authorize": {
      const authorization = createClient(AuthorizationService, transport);
      const request = { authorization: `Bearer ${token}`, resource: argument, requiredScope: values["required-scope"] };
      return print(AuthorizeResponseSchema, await authorization.authorize(request));
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2), process.env).catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
    process.stderr.write(`${error.message ? `portcullis-admin: ${error.message}\n\n` : ""}${USAGE}`);
    process.exit(2);
  }
  const connectError = ConnectError.from(error);
  process.stderr.write(`portcullis-admin: ${Code[connectError.code]}: ${connectError.rawMessage}\n`);
  process.exit(1);
});
