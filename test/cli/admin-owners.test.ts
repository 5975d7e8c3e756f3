import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAdminCli, recordFields, tableRows, type BundledCli, type CliRunOptions } from "../support/admin-cli.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";

describe("the portcullis-admin CLI's owner commands and token deactivation", () => {
  let cli: BundledCli;
  let server: InProcessPortcullis;
  let env: Record<string, string>;
  const run = (args: string[], options: CliRunOptions = {}) => cli.run(args, { ...options, env: { ...env, ...options.env } });
  const authorizeAs = async (token: string) =>
    JSON.parse((await run(["authorize", "GET /api/kafka/topics", "--json"], { env: { PORTCULLIS_ADMIN_TOKEN: token } })).stdout) as {
      decision: string;
      reason: string;
      principal?: { owner?: string };
    };

  beforeAll(async () => {
    [cli, server] = await Promise.all([bundleAdminCli(), startInProcess({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG })]);
    env = { PORTCULLIS_URL: server.url, PORTCULLIS_ADMIN_TOKEN: await server.rootToken() };
  });
  afterAll(async () => {
    await Promise.all([cli?.cleanup(), server?.stop()]);
  });

  it("mints a token and creates a team with --owner, then deactivates and reactivates the owner, which stops and restores the token", async () => {
    const mint = await run(["tokens", "mint", "--scope", "kafka:read", "--owner", "alice@example.com", "--json"]);
    expect(mint).toMatchObject({ exitCode: 0, stderr: "" });
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string; owner: string } };
    expect(minted.record.owner).toBe("alice@example.com");
    const team = await run(["teams", "create", "--name", "platform", "--owner", "alice@example.com"]);
    expect(recordFields(team.stdout)).toMatchObject({ owner: "alice@example.com" });
    expect(tableRows((await run(["tokens", "list"])).stdout).find((row) => row["TOKEN ID"] === minted.record.tokenId)).toMatchObject({
      OWNER: "alice@example.com",
    });
    expect(await authorizeAs(minted.token)).toMatchObject({ decision: "DECISION_ALLOW", principal: { owner: "alice@example.com" } });

    const deactivate = await run(["owners", "deactivate", "alice@example.com"]);
    expect(deactivate).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(deactivate.stdout)).toMatchObject({ owner: "alice@example.com", active: "no", "owned tokens": "1", "owned teams": "1" });
    expect(await authorizeAs(minted.token)).toMatchObject({ decision: "DECISION_DENY", reason: "owner_disabled" });

    const again = await run(["owners", "deactivate", "alice@example.com"]);
    expect(again).toMatchObject({ exitCode: 1, stdout: "" });
    expect(again.stderr).toMatch(/^portcullis-admin: FailedPrecondition: [^\n]*already deactivated\n$/);

    expect(recordFields((await run(["owners", "reactivate", "alice@example.com"])).stdout)).toMatchObject({ active: "yes" });
    const shown = JSON.parse((await run(["owners", "get", "alice@example.com", "--json"])).stdout) as { owner: { active: boolean; changedBy: string } };
    expect(shown.owner).toMatchObject({ active: true, changedBy: expect.stringMatching(/^tok_/) });
    expect(await authorizeAs(minted.token)).toMatchObject({ decision: "DECISION_ALLOW" });

    const bad = await run(["owners", "get", "alice smith"]);
    expect(bad).toMatchObject({ exitCode: 1, stdout: "" });
    expect(bad.stderr).toMatch(/^portcullis-admin: InvalidArgument: owner: must be an owner id/);
  });

  it("deactivates and reactivates a token", async () => {
    const minted = JSON.parse((await run(["tokens", "mint", "--scope", "kafka:read", "--json"])).stdout) as { token: string; record: { tokenId: string } };
    const deactivate = await run(["tokens", "deactivate", minted.record.tokenId]);
    expect(deactivate).toMatchObject({ exitCode: 0, stderr: "" });
    expect(recordFields(deactivate.stdout)).toMatchObject({ "token id": minted.record.tokenId, active: "no" });
    expect(recordFields(deactivate.stdout).deactivated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await authorizeAs(minted.token)).toMatchObject({ decision: "DECISION_DENY", reason: "token_inactive" });
    expect(recordFields((await run(["tokens", "reactivate", minted.record.tokenId])).stdout)).toMatchObject({ active: "yes", deactivated: "-" });
    expect(await authorizeAs(minted.token)).toMatchObject({ decision: "DECISION_ALLOW" });
  });
});
