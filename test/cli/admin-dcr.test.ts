import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAdminCli, recordFields, tableRows, type BundledCli, type CliResult, type CliRunOptions } from "../support/admin-cli.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";

const CLIENT_SECRET = "cli-client-secret-7f3a9c";
const REGISTRATION_TOKEN = "cli-registration-token-51b2e8";

/** The options naming a key but its scope set. */
function keyPlace(upstream: string): string[] {
  return ["--issuer", "https://proxy.example", "--upstream", upstream, "--redirect-uri", "https://proxy.example/callback"];
}

/** A key's options, its scopes as repeated --scope (none: --no-scopes). */
function keyArgs(upstream: string, scopes: string[] = ["repo", "read:user"]): string[] {
  return [...keyPlace(upstream), ...(scopes.length === 0 ? ["--no-scopes"] : scopes.flatMap((scope) => ["--scope", scope]))];
}

const ENDPOINTS = ["--authorization-endpoint", "https://idp.example/authorize", "--token-endpoint", "https://idp.example/token"];

describe("the portcullis-admin CLI's DCR commands", () => {
  let cli: BundledCli;
  let server: InProcessPortcullis;
  let env: Record<string, string>;
  let dir: string;
  const outputs: CliResult[] = [];
  const run = async (args: string[], options: CliRunOptions = {}) => {
    const result = await cli.run(args, { ...options, env: { ...env, ...options.env } });
    outputs.push(result);
    return result;
  };

  beforeAll(async () => {
    [cli, server, dir] = await Promise.all([
      bundleAdminCli(),
      startInProcess({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG }),
      mkdtemp(join(tmpdir(), "portcullis-admin-dcr-")),
    ]);
    env = { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN: await server.rootToken() };
    await writeFile(join(dir, "client-secret"), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await Promise.all([cli?.cleanup(), server?.stop(), dir === undefined ? undefined : rm(dir, { recursive: true, force: true })]);
  });

  it("stores an entry with its secrets from a file and stdin, then lists and shows it without them", async () => {
    const put = await run(
      ["dcr", "put", ...keyArgs("github"), "--client-id", "client-1", ...ENDPOINTS, "--client-secret-file", join(dir, "client-secret"),
        "--registration-access-token-file", "-", "--provider-name", "GitHub", "--client-secret-expires-at", "4102444800"],
      { stdin: `${REGISTRATION_TOKEN}\n` },
    );
    expect(put).toMatchObject({ exitCode: 0, stderr: "" });
    const stored = recordFields(put.stdout);
    expect(stored).toMatchObject({
      upstream: "github",
      "client id": "client-1",
      "client secret": "yes (not shown)",
      "registration access token": "yes (not shown)",
      "provider name": "GitHub",
      "client secret expires": "2100-01-01T00:00:00Z",
    });
    expect(stored["scopes hash"]).toMatch(/^[0-9a-f]{64}$/);

    const rows = tableRows((await run(["dcr", "list"])).stdout);
    expect(rows.find((row) => row.UPSTREAM === "github")).toMatchObject({
      ISSUER: "https://proxy.example",
      "REDIRECT URI": "https://proxy.example/callback",
      "SCOPES HASH": stored["scopes hash"],
      "CLIENT ID": "client-1",
      SECRET: "yes",
      STALE: "no",
    });
    const listed = JSON.parse((await run(["dcr", "list", "--issuer", "https://proxy.example", "--json"])).stdout) as { entries: unknown[] };
    expect(listed.entries).toEqual([expect.objectContaining({ hasClientSecret: true, resolution: expect.objectContaining({ clientId: "client-1" }) })]);

    // The same key by its scopes in another order, and by its hash.
    const get = await run(["dcr", "get", ...keyArgs("github", ["read:user", "repo"]), "--json"]);
    expect(get).toMatchObject({ exitCode: 0, stderr: "" });
    expect(JSON.parse(get.stdout)).toMatchObject({
      entry: { key: { scopesHash: stored["scopes hash"] }, hasClientSecret: true, resolution: { clientSecret: "", registrationAccessToken: "" } },
    });
    const byHash = await run(["dcr", "get", ...keyPlace("github"), "--scopes-hash", stored["scopes hash"]!]);
    expect(recordFields(byHash.stdout)).toMatchObject({ "client id": "client-1", "client secret": "yes (not shown)" });

    // The server kept them: a proxy reading the entry gets both.
    const clients = createClients(server.url);
    const key = { issuer: "https://proxy.example", upstreamId: "github", redirectUri: "https://proxy.example/callback", scopeSet: { case: "scopesHash" as const, value: stored["scopes hash"]! } };
    const { entry } = await clients.dcr.getDcrResolution({ key }, bearer(env.PORTCULLIS_ADMIN_TOKEN!));
    expect(entry?.resolution).toMatchObject({ clientSecret: CLIENT_SECRET, registrationAccessToken: REGISTRATION_TOKEN });
  });

  it("stores a public client under the empty scope set, and deletes it: a second delete and a get answer NotFound", async () => {
    const put = await run(["dcr", "put", ...keyArgs("public", []), "--client-id", "public-1", ...ENDPOINTS, "--token-endpoint-auth-method", "none", "--json"]);
    expect(put).toMatchObject({ exitCode: 0, stderr: "" });
    expect(JSON.parse(put.stdout)).toMatchObject({ entry: { hasClientSecret: false, resolution: { clientId: "public-1", tokenEndpointAuthMethod: "none" } } });

    const remove = await run(["dcr", "delete", ...keyArgs("public", [])]);
    expect(remove).toMatchObject({ exitCode: 0, stdout: "deleted\n", stderr: "" });
    for (const args of [["dcr", "delete", ...keyArgs("public", [])], ["dcr", "get", ...keyArgs("public", [])]]) {
      const gone = await run(args);
      expect(gone).toMatchObject({ exitCode: 1, stdout: "" });
      expect(gone.stderr).toMatch(/^portcullis-admin: NotFound: [^\n]+\n$/);
    }
  });

  it("takes a client secret from stdin, and refuses one secret file that is empty or missing", async () => {
    const put = await run(["dcr", "put", ...keyArgs("stdin"), "--client-id", "client-2", ...ENDPOINTS, "--client-secret-file", "-"], {
      stdin: CLIENT_SECRET,
    });
    expect(put).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(put.stdout)).toMatchObject({ "client secret": "yes (not shown)", "registration access token": "no" });

    const empty = await run(["dcr", "put", ...keyArgs("stdin"), "--client-id", "client-2", ...ENDPOINTS, "--client-secret-file", "-"]);
    expect(empty).toMatchObject({ exitCode: 1, stdout: "", stderr: "portcullis-admin: --client-secret-file: stdin is empty\n" });
    const missing = await run(["dcr", "put", ...keyArgs("stdin"), "--client-id", "client-2", ...ENDPOINTS, "--client-secret-file", join(dir, "nope")]);
    expect(missing).toMatchObject({ exitCode: 1, stdout: "" });
    expect(missing.stderr).toBe(`portcullis-admin: cannot read ${join(dir, "nope")} (ENOENT)\n`);
  });

  it("reports the server's refusals on one line with their gRPC code and exit status 1", async () => {
    const invalid = await run(["dcr", "put", ...keyArgs("bad"), "--client-id", "c", "--authorization-endpoint", "not a url", "--token-endpoint", "https://idp.example/token"]);
    expect(invalid).toMatchObject({ exitCode: 1, stdout: "" });
    expect(invalid.stderr).toMatch(/^portcullis-admin: InvalidArgument: [^\n]+\n$/);

    const clients = createClients(server.url);
    const { token: reader } = await clients.admin.mintToken({ scopes: ["dcr:read"], name: "dcr reader" }, bearer(env.PORTCULLIS_ADMIN_TOKEN!));
    const list = await run(["dcr", "list", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: reader } });
    expect(list.exitCode).toBe(0);
    const refused = await run(["dcr", "delete", ...keyArgs("github")], { env: { PORTCULLIS_ADMIN_TOKEN: reader } });
    expect(refused).toMatchObject({ exitCode: 1, stdout: "" });
    expect(refused.stderr).toMatch(/^portcullis-admin: PermissionDenied: [^\n]+\n$/);
    expect(refused.stderr).not.toContain(reader);
  });

  it("never printed a secret it was given, in any output of this file, nor did the server log one", () => {
    const everything = `${outputs.map((result) => `${result.stdout}${result.stderr}`).join("")}${server.output()}`;
    expect(outputs.length).toBeGreaterThan(10);
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(everything).not.toContain(REGISTRATION_TOKEN);
  });
});
