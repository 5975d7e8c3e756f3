import { Code, type CallOptions } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import { Source, TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { dcrKeyMessage } from "../../src/api/dcr-messages.js";
import { canonicalDcrKey } from "../../src/oauth/dcr-key-input.js";
import { AUDIT_EVENTS } from "../../src/observability/audit-log.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { EXAMPLE_KEY } from "../support/dcr-fixtures.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { freePort } from "../support/redis-server.js";

type Line = Record<string, unknown>;

const CLIENT_SECRET = "audit-client-secret-value-0123456789";
const REGISTRATION_TOKEN = "audit-registration-access-token-0123456789";
const UNKNOWN_TOKEN_ID = "tok_AAAAAAAAAAAAAAAAAAAAAA";
const DCR_KEY = canonicalDcrKey(EXAMPLE_KEY);
const LEASE_KEY = canonicalDcrKey({ ...EXAMPLE_KEY, redirectUri: "https://thv.example.com/oauth/other-callback" });

/** Every line the process wrote that is JSON; the rest (none expected) is left to the secret search. */
function jsonLines(output: string): Line[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line);
}

const auditLines = (output: string) => jsonLines(output).filter((line) => line.log === "audit");

/** The audit lines after the first `before`, once `count` of them have reached the output. */
async function auditLinesAfter(server: PortcullisProcess, before: number, count: number): Promise<Line[]> {
  await eventually(async () => auditLines(server.output()).length >= before + count, 10_000);
  return auditLines(server.output()).slice(before);
}

describe("the audit log of a server running with log_level: error", () => {
  let server: PortcullisProcess;
  let clients: Clients;
  let root: string;
  let rootId: string;
  /** Every secret the session mints or uses, for the search over all output. */
  const secrets: string[] = [CLIENT_SECRET, REGISTRATION_TOKEN];
  /** The request ids answered in the x-request-id header, in call order. */
  const answeredIds: string[] = [];
  const withRequestId = (token: string, requestId?: string): CallOptions => ({
    headers: { authorization: `Bearer ${token}`, ...(requestId === undefined ? {} : { "x-request-id": requestId }) },
    onHeader: (header) => void answeredIds.push(header.get("x-request-id") ?? "(none)"),
  });

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_LOG_LEVEL: "error" }, port: await freePort() });
    clients = createClients(server.url);
    root = await server.rootToken();
    secrets.push(root);
    const listed = await clients.admin.listTokens({}, bearer(root));
    rootId = listed.tokens.find((token) => token.source === Source.BOOTSTRAP)!.tokenId;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("writes exactly one line per change, with the event, the caller, the target ids, the outcome and the request id", async () => {
    const asRoot = bearer(root);
    const { admin, dcr } = clients;
    const before = auditLines(server.output()).length;

    const { key } = await admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, withRequestId(root, "session-step-1"));
    const { team } = await admin.createTeam({ name: "payments", libraries: ["lib-a"] }, asRoot);
    const teamId = team!.teamId;
    await admin.assignLibraries({ teamId, libraries: ["lib-a", "lib-b"] }, asRoot);
    const teamToken = await admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId, scopes: ["kafka:read"], name: "ci" }, asRoot);
    const minted = await admin.mintToken({ scopes: ["kafka:read"], name: "to-revoke" }, asRoot);
    secrets.push(teamToken.token, minted.token);
    // Reads change nothing and are not audited.
    await admin.listTokens({}, asRoot);
    await admin.getTeam({ teamId }, asRoot);
    await admin.revokeToken({ tokenId: minted.record!.tokenId }, asRoot);
    await admin.deactivateTeam({ teamId }, asRoot);
    await admin.retireSigningKey({ kid: key!.kid }, asRoot);
    await dcr.putDcrResolution(
      {
        key: dcrKeyMessage(DCR_KEY),
        resolution: {
          clientId: "audit-client",
          clientSecret: CLIENT_SECRET,
          registrationAccessToken: REGISTRATION_TOKEN,
          authorizationEndpoint: "https://idp.example.com/authorize",
          tokenEndpoint: "https://idp.example.com/token",
        },
      },
      asRoot,
    );
    const acquired = await dcr.acquireRegistration({ key: dcrKeyMessage(LEASE_KEY) }, asRoot);
    expect(acquired.result.case).toBe("lease");
    if (acquired.result.case === "lease") secrets.push(acquired.result.value.leaseId);
    await dcr.deleteDcrResolution({ key: dcrKeyMessage(DCR_KEY) }, asRoot);

    const caller = { tokenId: rootId };
    const lines = await auditLinesAfter(server, before, 11);
    expect(lines.map((line) => line.event)).toEqual([
      "signing_key.create",
      "team.create",
      "team.assign",
      "team.rotate",
      "token.mint",
      "token.revoke",
      "team.deactivate",
      "signing_key.retire",
      "dcr.put",
      "dcr.lease_acquire",
      "dcr.delete",
    ]);
    const dcrKey = { ...DCR_KEY };
    expect(lines).toEqual([
      expect.objectContaining({ caller, kid: key!.kid, outcome: "success", requestId: "session-step-1" }),
      expect.objectContaining({ caller, teamId, outcome: "success" }),
      expect.objectContaining({ caller, teamId, outcome: "success" }),
      expect.objectContaining({ caller, teamId, tokenId: teamToken.record!.tokenId, outcome: "success" }),
      expect.objectContaining({ caller, tokenId: minted.record!.tokenId, outcome: "success" }),
      expect.objectContaining({ caller, tokenId: minted.record!.tokenId, outcome: "success" }),
      expect.objectContaining({ caller, teamId, outcome: "success" }),
      expect.objectContaining({ caller, kid: key!.kid, outcome: "success" }),
      expect.objectContaining({ caller, dcrKey, outcome: "success" }),
      expect.objectContaining({ caller, dcrKey: { ...LEASE_KEY }, outcome: "success", result: "lease_granted" }),
      expect.objectContaining({ caller, dcrKey, outcome: "success" }),
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ level: 30, log: "audit", service: "portcullis" });
      expect(AUDIT_EVENTS).toContain(line.event);
      expect(line.requestId).toEqual(expect.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/));
    }
    // Generated ids are fresh per call.
    expect(new Set(lines.map((line) => line.requestId)).size).toBe(lines.length);
    expect(answeredIds[0]).toBe("session-step-1");
  });

  it("logs a failed change as a failure with its code: an unknown token id, a caller that is not root, an unknown bearer", async () => {
    const { admin } = clients;
    const writer = await admin.mintToken({ scopes: ["dcr:write"], name: "not-root" }, bearer(root));
    secrets.push(writer.token);
    const unknownBearer = `pcl_${"z".repeat(43)}`;
    secrets.push(unknownBearer);
    // The writer's mint line reaches the output asynchronously: counted before the failures, not among them.
    await eventually(async () => auditLines(server.output()).some((line) => line.event === "token.mint" && line.tokenId === writer.record!.tokenId), 10_000);
    const before = auditLines(server.output()).length;

    const notFound = await rejectionOf(admin.revokeToken({ tokenId: UNKNOWN_TOKEN_ID }, withRequestId(root, "revoke-unknown")));
    expect(notFound.code).toBe(Code.NotFound);
    expect(notFound.metadata.get("x-request-id")).toBe("revoke-unknown");
    const denied = await rejectionOf(admin.createTeam({ name: "x", libraries: [] }, bearer(writer.token)));
    expect(denied.code).toBe(Code.PermissionDenied);
    const refused = await rejectionOf(admin.mintToken({ scopes: ["a"], name: "x" }, bearer(unknownBearer)));
    expect(refused.code).toBe(Code.Unauthenticated);
    // A secret pasted where an id belongs is not logged: the argument is refused, the target left out.
    const pasted = await rejectionOf(admin.revokeToken({ tokenId: writer.token }, bearer(root)));
    expect(pasted.code).toBe(Code.InvalidArgument);

    const lines = await auditLinesAfter(server, before, 4);
    expect(lines).toEqual([
      expect.objectContaining({
        event: "token.revoke",
        caller: { tokenId: rootId },
        tokenId: UNKNOWN_TOKEN_ID,
        outcome: "failure",
        code: "not_found",
        requestId: "revoke-unknown",
      }),
      expect.objectContaining({ event: "team.create", caller: { tokenId: writer.record!.tokenId }, outcome: "failure", code: "permission_denied" }),
      expect.objectContaining({ event: "token.mint", caller: {}, outcome: "failure", code: "unauthenticated" }),
      expect.objectContaining({ event: "token.revoke", caller: { tokenId: rootId }, outcome: "failure", code: "invalid_argument" }),
    ]);
    expect(lines.at(-1)).not.toHaveProperty("tokenId");
    expect(lines.at(-2)).not.toHaveProperty("tokenId");
  });

  it("takes a well-formed x-request-id, and answers a fresh one in place of any other", async () => {
    const before = answeredIds.length;
    const bad = ["has spaces in it", "x".repeat(129), "semi;colon"];
    for (const requestId of bad) await clients.admin.listSigningKeys({}, withRequestId(root, requestId));
    await clients.admin.listSigningKeys({}, withRequestId(root, "0f8fad5b-d9cb-469f-a165-70867728950e"));
    const answered = answeredIds.slice(before);
    for (const [index, requestId] of bad.entries()) {
      expect(answered[index]).not.toBe(requestId);
      expect(answered[index]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(answered[3]).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
  });

  it("writes nothing else at log_level error, and no secret minted or used anywhere in stdout or stderr", async () => {
    await server.stop();
    const output = server.output();
    const lines = jsonLines(output);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.log !== "audit" && (line.level as number) < 50)).toEqual([]);
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
