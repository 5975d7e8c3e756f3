import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How `npm run admin` starts the CLI: tsx compiling the TypeScript entry point on the fly. */
const AS_NPM_RUNS_IT = ["--import", "tsx", "src/cli/portcullis-admin.ts"];

/**
 * The same entry point bundled once per file: a start through tsx costs over a
 * second of CPU (several on a loaded machine), and this file starts the CLI
 * two dozen times.
 */
async function bundleCli(dir: string): Promise<string[]> {
  const outfile = join(dir, "portcullis-admin.mjs");
  await build({ entryPoints: [join(REPO, "src/cli/portcullis-admin.ts")], bundle: true, platform: "node", format: "esm", outfile, logLevel: "error" });
  return [outfile];
}

let bundled: string[];
let bundleDir: string;
beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), "portcullis-admin-cli-"));
  bundled = await bundleCli(bundleDir);
});
afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

function runCli(args: string[], env: Record<string, string>, entryPoint = bundled): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entryPoint, ...args],
      { cwd: REPO, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) => resolve({ exitCode: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe("the portcullis-admin CLI against a running server", () => {
  let server: PortcullisProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    env = { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN_FILE: join(server.dataDir, "root.token") };
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("runs as npm run admin starts it, through tsx", async () => {
    const list = await runCli(["list"], env, AS_NPM_RUNS_IT);
    expect(list).toMatchObject({ exitCode: 0, stderr: "" });
    expect(JSON.parse(list.stdout)).toHaveProperty("tokens");
  });

  it("mints, authorizes, lists, gets and revokes a token, printing JSON", async () => {
    const mint = await runCli(
      ["mint", "--scope", "kafka:read", "--scope", "tools:use", "--name", "cli", "--library", "lib-1", "--tool", "search", "--ttl", "2h"],
      env,
    );
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string; createdAt: string; expiresAt: string } };
    expect(minted.record).toMatchObject({ scopes: ["kafka:read", "tools:use"], name: "cli", allowedLibraries: ["lib-1"] });
    expect(Date.parse(minted.record.expiresAt) - Date.parse(minted.record.createdAt)).toBe(2 * 3600 * 1000);

    const authorize = await runCli(["authorize", "GET /api/kafka/topics"], { ...env, PORTCULLIS_ADMIN_TOKEN: minted.token });
    expect(JSON.parse(authorize.stdout)).toMatchObject({ decision: "DECISION_ALLOW", reason: "ok", libraries: ["lib-1"] });
    const narrowed = await runCli(["--token", minted.token, "authorize", "GET /api/kafka/topics", "--required-scope", "x"], env);
    expect(JSON.parse(narrowed.stdout)).toMatchObject({ decision: "DECISION_DENY", reason: "insufficient_scope" });

    const list = await runCli(["list"], env);
    const ids = (JSON.parse(list.stdout) as { tokens: { tokenId: string }[] }).tokens.map((token) => token.tokenId);
    expect(ids).toContain(minted.record.tokenId);
    expect(list.stdout).not.toContain(minted.token);

    const get = await runCli(["get", minted.record.tokenId], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ record: { tokenId: minted.record.tokenId, active: true } });

    const revoke = await runCli(["revoke", minted.record.tokenId], env);
    expect(JSON.parse(revoke.stdout)).toMatchObject({ record: { tokenId: minted.record.tokenId, active: false } });
    const again = await runCli(["revoke", minted.record.tokenId], env);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/^portcullis-admin: NotFound: /);
  });

  it("mints a team token with --team, shows it with its kind, and revokes it like any other", async () => {
    const clients = createClients(server.url);
    const asRoot = bearer(await server.rootToken());
    await clients.admin.createSigningKey({}, asRoot);
    const teamId = (await clients.admin.createTeam({ name: "cli-team", libraries: ["lib-t"] }, asRoot)).team!.teamId;

    const mint = await runCli(["mint", "--team", teamId, "--scope", "kafka:read"], env);
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string } };
    const expected = { tokenId: minted.record.tokenId, kind: "TOKEN_KIND_TEAM_JWT", teamId, allowedLibraries: ["lib-t"], active: true };
    expect(minted.record).toMatchObject(expected);
    const get = await runCli(["get", minted.record.tokenId], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ record: expected });
    expect(get.stdout).not.toContain(minted.token);

    const revoke = await runCli(["revoke", minted.record.tokenId], env);
    expect(JSON.parse(revoke.stdout)).toMatchObject({ record: { ...expected, active: false } });
    const authorize = await runCli(["authorize", "GET /api/kafka/topics"], { ...env, PORTCULLIS_ADMIN_TOKEN: minted.token });
    expect(JSON.parse(authorize.stdout)).toMatchObject({ decision: "DECISION_DENY", reason: "token_revoked" });
  });

  it("reports a refused call with its code and exit status 1, never echoing the token", async () => {
    const minted = JSON.parse((await runCli(["mint", "--scope", "kafka:read"], env)).stdout) as { token: string };
    const refused = await runCli(["--token", minted.token, "list"], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toBe("portcullis-admin: PermissionDenied: token administration needs a root token\n");
    const invalid = await runCli(["mint", "--scope", "auth:tokens:read"], env);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toMatch(/^portcullis-admin: InvalidArgument: scopes: /);
  });

  it.each([
    ["no command", []],
    ["an unknown command", ["frobnicate"]],
    ["an unknown option", ["list", "--verbose"]],
    ["a missing token id", ["revoke"]],
    ["an argument list takes none of", ["list", "extra"]],
    ["a ttl it cannot read", ["mint", "--scope", "a", "--ttl", "soon"]],
  ])("explains its usage with exit status 2 for %s", async (_case, args) => {
    const result = await runCli(args, env);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Usage: npm run -s admin");
    expect(result.stdout).toBe("");
  });

  it("says where it looked when there is no token to send", async () => {
    const result = await runCli(["list"], { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN_FILE: "/nonexistent/root.token" });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("/nonexistent/root.token: ENOENT");
  });
});
