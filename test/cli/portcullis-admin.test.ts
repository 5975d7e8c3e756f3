import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAdminCli, recordFields, REPO, runProgram, tableRows, type BundledCli, type CliRunOptions } from "../support/admin-cli.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";

let cli: BundledCli;
beforeAll(async () => {
  cli = await bundleAdminCli();
});
afterAll(async () => {
  await cli?.cleanup();
});

describe("the portcullis-admin CLI against a running server", () => {
  let server: PortcullisProcess;
  let env: Record<string, string>;
  const run = (args: string[], options: CliRunOptions = {}) => cli.run(args, { ...options, env: { ...env, ...options.env } });

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    env = { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN_FILE: join(server.dataDir, "root.token") };
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("runs as a newcomer runs it, through npm run admin", async () => {
    const list = await runProgram("npm", ["run", "-s", "admin", "--", "teams", "list", "--json"], { env });
    expect(list).toMatchObject({ exitCode: 0, stderr: "" });
    expect(Array.isArray((JSON.parse(list.stdout) as { teams: unknown }).teams)).toBe(true);
  });

  it("mints, authorizes, lists, gets and revokes a token, printing JSON with --json", async () => {
    const mint = await run(
      ["mint", "--scope", "kafka:read", "--scope", "tools:use", "--name", "cli", "--library", "lib-1", "--tool", "search", "--ttl", "2h", "--json"],
    );
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string; createdAt: string; expiresAt: string } };
    expect(minted.record).toMatchObject({ scopes: ["kafka:read", "tools:use"], name: "cli", allowedLibraries: ["lib-1"] });
    expect(Date.parse(minted.record.expiresAt) - Date.parse(minted.record.createdAt)).toBe(2 * 3600 * 1000);

    const authorize = await run(["authorize", "GET /api/kafka/topics", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: minted.token } });
    expect(authorize.exitCode).toBe(0);
    expect(JSON.parse(authorize.stdout)).toMatchObject({ decision: "DECISION_ALLOW", reason: "ok", libraries: ["lib-1"] });

    const list = await run(["tokens", "list", "--json"]);
    const ids = (JSON.parse(list.stdout) as { tokens: { tokenId: string }[] }).tokens.map((token) => token.tokenId);
    expect(ids).toContain(minted.record.tokenId);
    expect(list.stdout).not.toContain(minted.token);

    const get = await run(["tokens", "get", minted.record.tokenId, "--json"]);
    expect(JSON.parse(get.stdout)).toMatchObject({ record: { tokenId: minted.record.tokenId, active: true } });
    expect(get.stdout).not.toContain(minted.token);

    const revoke = await run(["--json", "revoke", minted.record.tokenId]);
    expect(JSON.parse(revoke.stdout)).toMatchObject({ record: { tokenId: minted.record.tokenId, active: false } });
    const again = await run(["revoke", minted.record.tokenId]);
    expect(again).toMatchObject({ exitCode: 1, stdout: "" });
    expect(again.stderr).toMatch(/^portcullis-admin: NotFound: [^\n]+\n$/);
  });

  it("prints tokens as aligned tables, and the minted secret once, only in the mint's own output", async () => {
    const mint = await run(["tokens", "mint", "--scope", "kafka:read", "--name", "table reader", "--library", "lib-1"]);
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const secret = /shown this once only[^\n]*\n\n {2}(pcl_\S+)\n$/.exec(mint.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(mint.stdout.split(secret!)).toHaveLength(2);
    const record = recordFields(mint.stdout);
    expect(record).toMatchObject({ kind: "opaque", name: "table reader", scopes: "kafka:read", libraries: "lib-1", active: "yes" });

    const list = await run(["tokens", "list"]);
    expect(list).toMatchObject({ exitCode: 0, stderr: "" });
    const row = tableRows(list.stdout).find((candidate) => candidate["TOKEN ID"] === record["token id"]);
    expect(row).toMatchObject({ KIND: "opaque", NAME: "table reader", SCOPES: "kafka:read", LIBRARIES: "lib-1", ACTIVE: "yes" });
    expect(tableRows(list.stdout).find((candidate) => candidate.SOURCE === "bootstrap")).toMatchObject({ SCOPES: "*" });
    const get = await run(["tokens", "get", record["token id"]!]);
    expect(recordFields(get.stdout)).toMatchObject({ "token id": record["token id"], name: "table reader" });
    expect(`${list.stdout}${get.stdout}`).not.toContain(secret);
  });

  it("mints a team token with --team, shows it with its kind, and revokes it like any other", async () => {
    const clients = createClients(server.url);
    const asRoot = bearer(await server.rootToken());
    await clients.admin.createSigningKey({}, asRoot);
    const teamId = (await clients.admin.createTeam({ name: "cli-team", libraries: ["lib-t"] }, asRoot)).team!.teamId;

    const mint = await run(["mint", "--team", teamId, "--scope", "kafka:read", "--json"]);
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string } };
    const expected = { tokenId: minted.record.tokenId, kind: "TOKEN_KIND_TEAM_JWT", teamId, allowedLibraries: ["lib-t"], active: true };
    expect(minted.record).toMatchObject(expected);
    const get = await run(["get", minted.record.tokenId, "--json"]);
    expect(JSON.parse(get.stdout)).toMatchObject({ record: expected });
    expect(get.stdout).not.toContain(minted.token);

    const revoke = await run(["revoke", minted.record.tokenId, "--json"]);
    expect(JSON.parse(revoke.stdout)).toMatchObject({ record: { ...expected, active: false } });
    const authorize = await run(["authorize", "GET /api/kafka/topics", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: minted.token } });
    expect(authorize.exitCode).toBe(2);
    expect(JSON.parse(authorize.stdout)).toMatchObject({ decision: "DECISION_DENY", reason: "token_revoked" });
  });

  it("exits 0 on ALLOW and 2 on DENY, printing the decision as a table or as JSON", async () => {
    const clients = createClients(server.url);
    const { token } = await clients.admin.mintToken({ scopes: ["kafka:read"] }, bearer(await server.rootToken()));
    const allow = await run(["authorize", "GET /api/kafka/topics"], { env: { PORTCULLIS_ADMIN_TOKEN: token } });
    expect(allow).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(allow.stdout)).toMatchObject({ decision: "allow", reason: "ok", credential: "opaque", scopes: "kafka:read" });

    const narrowed = await run(["--token", token, "authorize", "GET /api/kafka/topics", "--required-scope", "x"]);
    expect(narrowed).toMatchObject({ exitCode: 2, stderr: "" });
    expect(recordFields(narrowed.stdout)).toMatchObject({ decision: "deny", reason: "insufficient_scope", "required scope": "x" });
    const unknown = await run(["authorize", "GET /api/kafka/topics", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: "pcl_not_a_token" } });
    expect(unknown).toMatchObject({ exitCode: 2, stderr: "" });
    expect(JSON.parse(unknown.stdout)).toMatchObject({ decision: "DECISION_DENY", reason: "unknown_token" });
  });

  it("reports a refused call on one line naming its gRPC code, with exit status 1, never echoing the token", async () => {
    const minted = JSON.parse((await run(["mint", "--scope", "kafka:read", "--json"])).stdout) as { token: string };
    const refused = await run(["--token", minted.token, "teams", "list"]);
    expect(refused).toMatchObject({ exitCode: 1, stdout: "" });
    expect(refused.stderr).toBe("portcullis-admin: PermissionDenied: token administration needs a root token\n");
    const invalid = await run(["mint", "--scope", "auth:tokens:read"]);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toMatch(/^portcullis-admin: InvalidArgument: scopes: [^\n]+\n$/);
    const unreachable = await run(["keys", "list"], { env: { PORTCULLIS_URL: "http://127.0.0.1:1" } });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^portcullis-admin: Unavailable: [^\n]+\n$/);
  });

  it("says where it looked when there is no token to send", async () => {
    const result = await run(["list"], { env: { PORTCULLIS_ADMIN_TOKEN_FILE: "/nonexistent/root.token" } });
    expect(result).toMatchObject({ exitCode: 1, stdout: "" });
    expect(result.stderr).toMatch(/^portcullis-admin: no token: [^\n]*\/nonexistent\/root\.token: ENOENT\)\n$/);
  });
});

describe("the portcullis-admin CLI's usage", () => {
  // No server: a usage mistake is found before anything is sent.
  const env = { PORTCULLIS_URL: "http://127.0.0.1:1" };

  it("names an unknown command and shows the usage, with exit status 64", async () => {
    const result = await cli.run(["frobnicate"], { env });
    expect(result).toMatchObject({ exitCode: 64, stdout: "" });
    expect(result.stderr).toMatch(/^portcullis-admin: unknown command: frobnicate\n\nUsage: portcullis-admin /);
    const inGroup = await cli.run(["teams", "frobnicate"], { env });
    expect(inGroup.exitCode).toBe(64);
    expect(inGroup.stderr).toMatch(/^portcullis-admin: unknown command: teams frobnicate\n/);
    expect(inGroup.stderr).toContain("teams deactivate <team_id>");
  });

  it.each([
    ["no command", []],
    ["a group without its command", ["keys"]],
    ["an unknown option", ["list", "--verbose"]],
    ["an option of another command", ["teams", "list", "--ttl", "1h"]],
    ["a missing token id", ["revoke"]],
    ["an argument list takes none of", ["list", "extra"]],
    ["a ttl it cannot read", ["mint", "--scope", "a", "--ttl", "soon"]],
    ["an algorithm it does not know", ["keys", "create", "--algorithm", "rs256"]],
    ["teams assign without libraries", ["teams", "assign", "t-1"]],
    ["a DCR key without its scope set", ["dcr", "get", "--issuer", "https://a.example", "--upstream", "u", "--redirect-uri", "https://a.example/cb"]],
    ["a client secret given on the command line", ["dcr", "put", "--client-secret", "s3cr3t"]],
    ["a CA file for a cleartext URL", ["--ca-file", "/etc/hostname", "keys", "list"]],
    ["a client certificate without its key", ["--url", "https://127.0.0.1:1", "--cert-file", "/etc/hostname", "keys", "list"]],
  ])("explains its usage with exit status 64 for %s", async (_case, args) => {
    const result = await cli.run(args, { env });
    expect(result).toMatchObject({ exitCode: 64, stdout: "" });
    expect(result.stderr).toContain("Usage: portcullis-admin [options]");
    expect(result.stderr).not.toContain("s3cr3t");
    expect(result.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  });

  it("prints the overall help and each group's help on stdout with exit status 0", async () => {
    const overall = await cli.run(["--help"], { env });
    expect(overall).toMatchObject({ exitCode: 0, stderr: "" });
    for (const group of ["tokens", "teams", "keys", "dcr", "authorize"]) expect(overall.stdout).toMatch(new RegExp(`^  ${group} `, "m"));
    const dcr = await cli.run(["dcr", "--help"], { env });
    expect(dcr).toMatchObject({ exitCode: 0, stderr: "" });
    expect(dcr.stdout).toContain("dcr put --issuer URL");
    expect(dcr.stdout).toContain("--client-secret-file PATH|-");
    expect((await cli.run(["help", "keys"], { env })).stdout).toContain("keys retire <kid>");
    expect((await cli.run(["teams", "create", "-h"], { env })).stdout).toContain("teams create --name NAME");
  });

  it("names the TLS file it cannot read, with exit status 1", async () => {
    const result = await cli.run(["keys", "list"], {
      env: { PORTCULLIS_URL: "https://127.0.0.1:1", PORTCULLIS_ADMIN_CA_FILE: "/nonexistent/ca.pem", PORTCULLIS_ADMIN_TOKEN: "pcl_x" },
    });
    expect(result).toMatchObject({ exitCode: 1, stdout: "" });
    expect(result.stderr).toBe("portcullis-admin: --ca-file: cannot read /nonexistent/ca.pem (ENOENT)\n");
  });

  it("is the package's portcullis-admin bin once built: an executable script where the build puts the entry point", async () => {
    const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin["portcullis-admin"]).toBe("dist/src/cli/portcullis-admin.js");
    // tsc (outDir dist, rootDir .) writes src/cli/portcullis-admin.ts there and keeps its first line.
    const build = JSON.parse(await readFile(join(REPO, "tsconfig.json"), "utf8")) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(build.compilerOptions).toMatchObject({ outDir: "dist", rootDir: "." });
    expect((await readFile(join(REPO, "src/cli/portcullis-admin.ts"), "utf8")).split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(pkg.scripts.build).toContain("chmod +x dist/src/cli/portcullis-admin.js");
  });
});
