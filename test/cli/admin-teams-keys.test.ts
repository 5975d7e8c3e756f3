import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAdminCli, recordFields, tableRows, type BundledCli, type CliRunOptions } from "../support/admin-cli.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";

describe("the portcullis-admin CLI's team and signing key commands", () => {
  let cli: BundledCli;
  let server: InProcessPortcullis;
  let env: Record<string, string>;
  const run = (args: string[], options: CliRunOptions = {}) => cli.run(args, { ...options, env: { ...env, ...options.env } });

  beforeAll(async () => {
    [cli, server] = await Promise.all([bundleAdminCli(), startInProcess({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG })]);
    env = { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN: await server.rootToken() };
  });
  afterAll(async () => {
    await Promise.all([cli?.cleanup(), server?.stop()]);
  });

  it("creates signing keys of both algorithms and retires one, listing their states as a table and as JSON", async () => {
    const first = await run(["keys", "create"]);
    expect(first).toMatchObject({ exitCode: 0, stderr: "" });
    const firstKey = recordFields(first.stdout);
    expect(firstKey).toMatchObject({ algorithm: "hs256", state: "active", retired: "-" });
    const second = await run(["keys", "create", "--algorithm", "ES256", "--json"]);
    const secondKey = (JSON.parse(second.stdout) as { key: { kid: string; algorithm: string; state: string } }).key;
    expect(secondKey).toMatchObject({ algorithm: "SIGNING_KEY_ALGORITHM_ES256", state: "SIGNING_KEY_STATE_ACTIVE" });

    const table = tableRows((await run(["keys", "list"])).stdout);
    expect(table.find((row) => row.KID === firstKey.kid)).toMatchObject({ ALGORITHM: "hs256", STATE: "verify_only", RETIRED: "-" });
    expect(table.find((row) => row.KID === secondKey.kid)).toMatchObject({ ALGORITHM: "es256", STATE: "active" });

    const retire = await run(["keys", "retire", firstKey.kid!]);
    expect(retire).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(retire.stdout)).toMatchObject({ kid: firstKey.kid, state: "retired" });
    expect(recordFields(retire.stdout).retired).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const json = JSON.parse((await run(["keys", "list", "--json"])).stdout) as { keys: { kid: string; state: string; retiredAt?: string }[] };
    expect(json.keys.find((key) => key.kid === firstKey.kid)).toMatchObject({ state: "SIGNING_KEY_STATE_RETIRED", retiredAt: expect.any(String) });
    // Key material is in neither form.
    expect(JSON.stringify(json)).not.toMatch(/"(k|d|secret|material)"/);

    const unknown = await run(["keys", "retire", "no-such-kid"]);
    expect(unknown).toMatchObject({ exitCode: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^portcullis-admin: NotFound: [^\n]+\n$/);
  });

  it("creates a team, lists and shows it, replaces its libraries and deactivates it, which ends its token", async () => {
    const create = await run(["teams", "create", "--name", "platform", "--library", "lib-a", "--library", "lib-b", "--json"]);
    expect(create).toMatchObject({ exitCode: 0, stderr: "" });
    const team = (JSON.parse(create.stdout) as { team: { teamId: string } }).team;
    expect(team).toMatchObject({ name: "platform", libraries: ["lib-a", "lib-b"], active: true, activeTokenId: "" });

    const mint = await run(["tokens", "mint", "--team", team.teamId, "--scope", "kafka:read", "--json"]);
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string } };
    const rows = tableRows((await run(["teams", "list"])).stdout);
    expect(rows.find((row) => row["TEAM ID"] === team.teamId)).toMatchObject({
      NAME: "platform",
      LIBRARIES: "lib-a,lib-b",
      ACTIVE: "yes",
      "ACTIVE TOKEN": minted.record.tokenId,
    });

    const assign = await run(["teams", "assign", team.teamId, "--library", "lib-c"]);
    expect(assign).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(assign.stdout)).toMatchObject({ "team id": team.teamId, libraries: "lib-c" });
    const allowed = await run(["authorize", "GET /api/kafka/topics", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: minted.token } });
    expect(allowed.exitCode).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ decision: "DECISION_ALLOW", libraries: ["lib-c"] });

    const cleared = await run(["teams", "assign", team.teamId, "--no-libraries", "--json"]);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ team: { teamId: team.teamId, libraries: [] } });

    const deactivate = await run(["teams", "deactivate", team.teamId]);
    expect(deactivate).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(deactivate.stdout)).toMatchObject({ active: "no" });
    const get = await run(["teams", "get", team.teamId, "--json"]);
    expect(JSON.parse(get.stdout)).toMatchObject({ team: { teamId: team.teamId, active: false, deactivatedAt: expect.any(String) } });
    const denied = await run(["authorize", "GET /api/kafka/topics"], { env: { PORTCULLIS_ADMIN_TOKEN: minted.token } });
    expect(denied).toMatchObject({ exitCode: 2, stderr: "" });
    expect(recordFields(denied.stdout)).toMatchObject({ decision: "deny", reason: "team_inactive" });

    const listed = `${(await run(["teams", "list"])).stdout}${(await run(["tokens", "list"])).stdout}${get.stdout}`;
    expect(listed).not.toContain(minted.token);
  });

  it("answers a team it does not know with NotFound and a team name it refuses with InvalidArgument, exit status 1", async () => {
    const unknown = await run(["teams", "get", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown).toMatchObject({ exitCode: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^portcullis-admin: NotFound: [^\n]+\n$/);
    const unnamed = await run(["teams", "create"]);
    expect(unnamed).toMatchObject({ exitCode: 1, stdout: "" });
    expect(unnamed.stderr).toMatch(/^portcullis-admin: InvalidArgument: [^\n]+\n$/);
  });
});
