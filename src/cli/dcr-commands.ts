import { clone } from "@bufbuild/protobuf";
import {
  DcrEntrySchema,
  DeleteDcrResolutionResponseSchema,
  GetDcrResolutionResponseSchema,
  ListDcrResolutionsResponseSchema,
  PutDcrResolutionResponseSchema,
  type DcrEntry,
  type DcrKey,
} from "../../gen/portcullis/v1/dcr_pb.js";
import { InputError, UsageError, type Command, type CommandContext, type CommandGroup, type CommandInput, type OptionSpec } from "./cli-command.js";
import { renderFields, renderTable, resultOf, textOrDash, yesNo } from "./cli-output.js";

const KEY_OPTIONS: Record<string, OptionSpec> = {
  issuer: { type: "string" },
  upstream: { type: "string" },
  "redirect-uri": { type: "string" },
  scope: { type: "string", multiple: true },
  "scopes-hash": { type: "string" },
  "no-scopes": { type: "boolean" },
};

const KEY_SYNOPSIS = "--issuer URL --upstream ID --redirect-uri URI (--scope S ... | --scopes-hash HEX | --no-scopes)";

function keyOf(input: CommandInput): DcrKey {
  const scopes = input.strings("scope");
  const hash = input.string("scopes-hash");
  const given = [scopes.length > 0, hash !== undefined, input.flag("no-scopes")].filter(Boolean).length;
  // The empty scope set is a key of its own, so it is asked for by name rather than by forgetting --scope.
  if (given !== 1) throw new UsageError("dcr: give the scope set once: --scope (repeatable), --scopes-hash or --no-scopes", dcrCommands);
  return {
    $typeName: "portcullis.v1.DcrKey",
    issuer: input.string("issuer") ?? "",
    upstreamId: input.string("upstream") ?? "",
    redirectUri: input.string("redirect-uri") ?? "",
    scopeSet:
      hash === undefined
        ? { case: "scopes", value: { $typeName: "portcullis.v1.ScopeList", values: scopes } }
        : { case: "scopesHash", value: hash },
  };
}

/**
 * The CLI never prints a client secret or registration access token, not even
 * with --json: output ends up in terminals' scrollback, CI logs and tickets.
 * has_client_secret still says whether there is one.
 */
function withoutSecrets(entry: DcrEntry | undefined): DcrEntry | undefined {
  if (entry?.resolution === undefined) return entry;
  const copy = clone(DcrEntrySchema, entry);
  copy.resolution!.clientSecret = "";
  copy.resolution!.registrationAccessToken = "";
  return copy;
}

function unixTime(seconds: bigint | undefined, unset: string): string {
  return seconds === undefined || seconds === 0n ? unset : new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function entryText(entry: DcrEntry | undefined, registrationAccessToken: boolean): string {
  if (entry === undefined) return "";
  const key = entry.key;
  const resolution = entry.resolution;
  return renderFields([
    ["issuer", key?.issuer ?? "-"],
    ["upstream", key?.upstreamId ?? "-"],
    ["redirect uri", key?.redirectUri ?? "-"],
    ["scopes hash", key?.scopeSet.case === "scopesHash" ? key.scopeSet.value : "-"],
    ["client id", resolution?.clientId ?? "-"],
    ["client secret", entry.hasClientSecret ? "yes (not shown)" : "no"],
    ["registration access token", registrationAccessToken ? "yes (not shown)" : "no"],
    ["authorization endpoint", textOrDash(resolution?.authorizationEndpoint ?? "")],
    ["token endpoint", textOrDash(resolution?.tokenEndpoint ?? "")],
    ["registration client uri", textOrDash(resolution?.registrationClientUri ?? "")],
    ["token endpoint auth method", textOrDash(resolution?.tokenEndpointAuthMethod ?? "")],
    ["provider name", textOrDash(resolution?.providerName ?? "")],
    ["client id issued", unixTime(resolution?.clientIdIssuedAt, "-")],
    ["client secret expires", unixTime(resolution?.clientSecretExpiresAt, "never")],
    ["created", unixTime(resolution?.createdAt, "-")],
    ["stale", yesNo(entry.stale)],
  ]);
}

function entriesTable(entries: readonly DcrEntry[]): string {
  return renderTable(
    ["ISSUER", "UPSTREAM", "REDIRECT URI", "SCOPES HASH", "CLIENT ID", "SECRET", "STALE", "CREATED"],
    entries.map((entry) => [
      entry.key?.issuer ?? "-",
      entry.key?.upstreamId ?? "-",
      entry.key?.redirectUri ?? "-",
      entry.key?.scopeSet.case === "scopesHash" ? entry.key.scopeSet.value : "-",
      entry.resolution?.clientId ?? "-",
      yesNo(entry.hasClientSecret),
      yesNo(entry.stale),
      unixTime(entry.resolution?.createdAt, "-"),
    ]),
  );
}

function unixSeconds(input: CommandInput, option: string): bigint {
  const text = input.string(option);
  if (text === undefined) return 0n;
  if (!/^\d{1,12}$/.test(text)) throw new UsageError(`--${option}: expected Unix seconds, got "${text}"`, dcrCommands);
  return BigInt(text);
}

/** A secret from a file or stdin ("-"): argv is readable by every user on the machine (ps, /proc/<pid>/cmdline). */
async function secretFrom(input: CommandInput, option: string, context: CommandContext): Promise<string> {
  const path = input.string(option);
  if (path === undefined) return "";
  // One trailing line break is the file's, not the secret's (echo, editors).
  const secret = (await context.readInput(path)).replace(/\r?\n$/, "");
  if (secret === "") throw new InputError(`--${option}: ${path === "-" ? "stdin" : path} is empty`);
  return secret;
}

const list: Command = {
  name: "list",
  arguments: [],
  options: { issuer: { type: "string" } },
  synopsis: "list [--issuer URL]",
  summary: "stored client registrations (secrets are never listed)",
  async run(input, context) {
    const response = await context.clients().dcr.listDcrResolutions({ issuer: input.string("issuer") ?? "" }, context.asCaller());
    const entries = response.entries.map((entry) => withoutSecrets(entry)!);
    return resultOf(ListDcrResolutionsResponseSchema, { ...response, entries }, entriesTable(entries));
  },
};

const get: Command = {
  name: "get",
  arguments: [],
  options: KEY_OPTIONS,
  synopsis: `get ${KEY_SYNOPSIS}`,
  summary: "one registration, without its secrets",
  async run(input, context) {
    const response = await context.clients().dcr.getDcrResolution({ key: keyOf(input) }, context.asCaller());
    const entry = withoutSecrets(response.entry);
    return resultOf(
      GetDcrResolutionResponseSchema,
      { ...response, entry },
      entryText(entry, (response.entry?.resolution?.registrationAccessToken ?? "") !== ""),
    );
  },
};

const put: Command = {
  name: "put",
  arguments: [],
  options: {
    ...KEY_OPTIONS,
    "client-id": { type: "string" },
    "client-secret-file": { type: "string" },
    "authorization-endpoint": { type: "string" },
    "token-endpoint": { type: "string" },
    "registration-access-token-file": { type: "string" },
    "registration-client-uri": { type: "string" },
    "token-endpoint-auth-method": { type: "string" },
    "provider-name": { type: "string" },
    "client-id-issued-at": { type: "string" },
    "client-secret-expires-at": { type: "string" },
  },
  synopsis:
    `put ${KEY_SYNOPSIS}\n      --client-id ID --authorization-endpoint URL --token-endpoint URL\n` +
    "      [--client-secret-file PATH|-] [--registration-access-token-file PATH|-] [--registration-client-uri URL]\n" +
    "      [--token-endpoint-auth-method M] [--provider-name N] [--client-id-issued-at SECS] [--client-secret-expires-at SECS]",
  summary: "store (or overwrite) a registration made by other means; secrets only from a file or stdin (-)",
  async run(input, context) {
    if (input.string("client-secret-file") === "-" && input.string("registration-access-token-file") === "-") {
      throw new UsageError("dcr put: stdin can hold one secret; give the other as a file", dcrCommands);
    }
    const key = keyOf(input);
    const resolution = {
      clientId: input.string("client-id") ?? "",
      clientSecret: await secretFrom(input, "client-secret-file", context),
      authorizationEndpoint: input.string("authorization-endpoint") ?? "",
      tokenEndpoint: input.string("token-endpoint") ?? "",
      registrationAccessToken: await secretFrom(input, "registration-access-token-file", context),
      registrationClientUri: input.string("registration-client-uri") ?? "",
      tokenEndpointAuthMethod: input.string("token-endpoint-auth-method") ?? "",
      providerName: input.string("provider-name") ?? "",
      clientIdIssuedAt: unixSeconds(input, "client-id-issued-at"),
      clientSecretExpiresAt: unixSeconds(input, "client-secret-expires-at"),
    };
    const response = await context.clients().dcr.putDcrResolution({ key, resolution }, context.asCaller());
    const entry = withoutSecrets(response.entry);
    return resultOf(PutDcrResolutionResponseSchema, { ...response, entry }, entryText(entry, resolution.registrationAccessToken !== ""));
  },
};

const remove: Command = {
  name: "delete",
  arguments: [],
  options: KEY_OPTIONS,
  synopsis: `delete ${KEY_SYNOPSIS}`,
  summary: "forget a registration (the next proxy to need it registers again)",
  async run(input, context) {
    const response = await context.clients().dcr.deleteDcrResolution({ key: keyOf(input) }, context.asCaller());
    return resultOf(DeleteDcrResolutionResponseSchema, response, "deleted\n");
  },
};

export const dcrCommands: CommandGroup = {
  name: "dcr",
  summary: "list, show, store and delete OAuth client registrations (DCR entries)",
  commands: [list, get, put, remove],
  notes: [
    "The lease calls (AcquireRegistration, AwaitResolution) coordinate proxies that register; they are not",
    "operator commands. Secrets are never printed, not even with --json: has_client_secret says whether there is one.",
  ],
};
