import { Code } from "@connectrpc/connect";
import { randomBytes } from "node:crypto";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { Decision, Denial } from "../../gen/portcullis/v1/authorization_pb.js";
import { Source } from "../../gen/portcullis/v1/token_admin_pb.js";
import { BACKENDS, EXAMPLE_CONFIG, startOnBackend } from "../support/backends.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import type { PortcullisProcess } from "../support/portcullis-process.js";

const secret = (label: string) => `legacy-${label}-${randomBytes(16).toString("hex")}`;

/** Legacy token file lines; `malformed` are the line numbers that must be reported. */
function legacyTokenFile() {
  const tokens = {
    wildcard: secret("wildcard"),
    reader: secret("reader"),
    writer: secret("writer"),
    badScopes: secret("bad-scopes"),
    badDate: secret("bad-date"),
    tooManyFields: secret("fields"),
    spaced: secret("spaced"),
  };
  const lines = [
    "# legacy tokens, exported from the old gateway",
    tokens.wildcard,
    `${tokens.reader}\tkafka:read,reports:read\tlegacy reader\t2024-01-02T03:04:05Z`,
    "",
    `${tokens.writer}\tkafka:write\twriter\t1700000000`,
    "Zq9xK2p\tkafka:read",
    `${tokens.badScopes}\tkafka read`,
    `${tokens.badDate}\tkafka:read\tdated\tyesterday`,
    `${tokens.reader}\tkafka:read`,
    `${tokens.tooManyFields}\ta\tb\t1700000000\textra`,
    `  ${tokens.spaced}`,
    "   # an indented comment",
  ];
  return { tokens, text: `${lines.join("\n")}\n`, malformed: [6, 7, 8, 9, 10, 11] };
}

describe.each(BACKENDS)("root tokens from configuration and a legacy token file on the %s store", (backend) => {
  const fileRoot = secret("config-file-root");
  const envRoot = secret("env-root");
  const legacy = legacyTokenFile();
  let server: PortcullisProcess;
  let clients: Clients;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portcullis-root-tokens-"));
    const example = parseYaml(await readFile(EXAMPLE_CONFIG, "utf8")) as object;
    await writeFile(join(dir, "tokens.tsv"), legacy.text);
    await writeFile(
      join(dir, "portcullis.yaml"),
      stringifyYaml({ ...example, root_tokens: [{ name: "ops", token: fileRoot }], token_file: join(dir, "tokens.tsv") }),
    );
    server = await startOnBackend(backend, {
      env: { PORTCULLIS_CONFIG: join(dir, "portcullis.yaml"), PORTCULLIS_ROOT_TOKENS: envRoot },
    });
    clients = createClients(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    // The config file holds a root token.
    await rm(dir, { recursive: true, force: true });
  });

  const decide = async (token: string, resource: string) => {
    const response = await clients.authorization.authorize({ authorization: `Bearer ${token}`, resource });
    return [response.decision, response.denial, response.reason];
  };

  it("lets root tokens from the config file and from PORTCULLIS_ROOT_TOKENS administer, listed as SOURCE_CONFIG", async () => {
    for (const root of [fileRoot, envRoot]) {
      const minted = await clients.admin.mintToken({ scopes: ["kafka:read"] }, bearer(root));
      expect(await decide(minted.token, "GET /api/kafka/x")).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    }
    const { tokens } = await clients.admin.listTokens({}, bearer(fileRoot));
    const configured = tokens.filter((token) => token.source === Source.CONFIG);
    expect(configured.map((token) => [token.name, token.scopes, token.active])).toEqual([
      ["ops", ["*"], true],
      ["env-root-1", ["*"], true],
    ]);
  });

  it("creates no bootstrap token when configuration names root tokens", async () => {
    const { tokens } = await clients.admin.listTokens({}, bearer(envRoot));
    expect(tokens.some((token) => token.source === Source.BOOTSTRAP)).toBe(false);
    await expect(access(join(server.dataDir, "root.token"))).rejects.toThrow();
  });

  it("refuses to revoke a configured root token through the API, even from another root token", async () => {
    const { tokens } = await clients.admin.listTokens({}, bearer(envRoot));
    const ops = tokens.find((token) => token.name === "ops")!;
    const error = await rejectionOf(clients.admin.revokeToken({ tokenId: ops.tokenId }, bearer(envRoot)));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("configuration");
    expect(await decide(fileRoot, "DELETE /api/kafka/x")).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
  });

  it("imports legacy tokens with their scopes, name and creation time as SOURCE_FILE", async () => {
    expect(await decide(legacy.tokens.reader, "GET /api/kafka/x")).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    expect(await decide(legacy.tokens.reader, "POST /api/kafka/x")).toEqual([Decision.DENY, Denial.FORBIDDEN, "insufficient_scope"]);
    expect(await decide(legacy.tokens.writer, "POST /api/kafka/x")).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    const { tokens } = await clients.admin.listTokens({}, bearer(fileRoot));
    const imported = tokens.filter((token) => token.source === Source.FILE);
    expect(imported.map((token) => token.name).sort()).toEqual(["imported line 2", "legacy reader", "writer"]);
    const reader = imported.find((token) => token.name === "legacy reader")!;
    expect(reader.scopes).toEqual(["kafka:read", "reports:read"]);
    expect(new Date(Number(reader.createdAt!.seconds) * 1000).toISOString()).toBe("2024-01-02T03:04:05.000Z");
    expect(Number(imported.find((token) => token.name === "writer")!.createdAt!.seconds)).toBe(1_700_000_000);
  });

  it("grants a bare legacy line every scope but no token administration", async () => {
    expect(await decide(legacy.tokens.wildcard, "DELETE /api/kafka/x")).toEqual([Decision.ALLOW, Denial.UNSPECIFIED, "ok"]);
    const error = await rejectionOf(clients.admin.listTokens({}, bearer(legacy.tokens.wildcard)));
    expect(error.code).toBe(Code.PermissionDenied);
  });

  it("lets a root token revoke an imported token", async () => {
    const { tokens } = await clients.admin.listTokens({}, bearer(fileRoot));
    const writer = tokens.find((token) => token.name === "writer")!;
    await clients.admin.revokeToken({ tokenId: writer.tokenId }, bearer(fileRoot));
    expect(await decide(legacy.tokens.writer, "POST /api/kafka/x")).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "token_revoked"]);
  });

  it("skips malformed lines, reporting each line number in the log without echoing any token", async () => {
    for (const token of [legacy.tokens.badScopes, legacy.tokens.badDate, legacy.tokens.tooManyFields, legacy.tokens.spaced]) {
      expect(await decide(token, "GET /api/kafka/x")).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "unknown_token"]);
    }
    const entries = server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { line?: number; msg: string; imported?: number; skipped?: number });
    const reported = entries.filter((entry) => entry.msg.startsWith("token file line skipped"));
    expect(reported.map((entry) => entry.line)).toEqual(legacy.malformed);
    expect(entries.find((entry) => entry.msg === "token file imported")).toMatchObject({ imported: 3, skipped: 6 });
    const output = server.output();
    for (const token of [...Object.values(legacy.tokens), fileRoot, envRoot, "Zq9xK2p"]) expect(output).not.toContain(token);
  });
});
