import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { runBuf, type BufResult } from "../support/buf-cli.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
/**
 * For the tests that start buf (and npx) once per call, as an operator's shell
 * does: each start takes about half a second (through npx over one) on a quiet
 * machine and ten times that on a loaded one. The README test runs five blocks
 * in a row, each depending on the last, so they cannot be shared or overlapped.
 */
const SPAWNING_TIMEOUT_MS = 120_000;

/** `buf curl` from node_modules, as the README tells operators to run it. */
async function bufCurl(url: string, method: string, body: object, token?: string): Promise<BufResult> {
  const args = ["curl", "--schema", "proto", "--protocol", "grpc", "--http2-prior-knowledge"];
  if (token !== undefined) args.push("-H", `Authorization: Bearer ${token}`);
  args.push("-d", JSON.stringify(body), `${url}/${method}`);
  return runBuf(args);
}

/** The shell blocks of README.md's buf curl section, in order. */
function readmeBufCurlBlocks(): string[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.split("<!-- readme-buf-curl:start -->")[1]?.split("<!-- readme-buf-curl:end -->")[0] ?? "";
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** Runs a README block as written, pointed at `server` and given the values it asks the reader to paste. */
async function runReadmeBlock(block: string, server: PortcullisProcess, pasted: { token?: string; tokenId?: string } = {}) {
  const script = block
    .replaceAll("data/root.token", join(server.dataDir, "root.token"))
    .replaceAll("http://127.0.0.1:8080", server.url)
    .replace(/^TOKEN=pcl_\.\.\..*$/m, `TOKEN=${pasted.token}`)
    .replace(/^TOKEN_ID=tok_\.\.\..*$/m, `TOKEN_ID=${pasted.tokenId}`);
  expect(script).not.toMatch(/8080|pcl_\.\.\.|tok_\.\.\./);
  const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], { cwd: REPO });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("the running server driven by buf curl, plain HTTP/1.1 and probes", () => {
  let server: PortcullisProcess;
  let root: string;

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    root = await server.rootToken();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("mints with buf curl over gRPC and authorizes the minted token with buf curl", async () => {
    const mint = await bufCurl(
      server.url,
      "portcullis.v1.TokenAdminService/MintToken",
      { scopes: ["kafka:read"], name: "buf-curl", allowedLibraries: ["lib-9"], ttl: "3600s" },
      root,
    );
    expect(mint.exitCode).toBe(0);
    const minted = JSON.parse(mint.stdout) as { token: string; record: { tokenId: string; source: string; expiresAt: string } };
    expect(minted.token).toMatch(/^pcl_/);
    expect(minted.record.source).toBe("SOURCE_MINTED");
    expect(minted.record.expiresAt).toBeDefined();

    const allowed = await bufCurl(server.url, "portcullis.v1.AuthorizationService/Authorize", {
      authorization: `Bearer ${minted.token}`,
      resource: "GET /api/kafka/topics",
    });
    expect(allowed.exitCode).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({
      decision: "DECISION_ALLOW",
      reason: "ok",
      principal: { tokenId: minted.record.tokenId, credentialType: "CREDENTIAL_TYPE_OPAQUE" },
      scopes: ["kafka:read"],
      libraries: ["lib-9"],
    });

    const denied = await bufCurl(server.url, "portcullis.v1.AuthorizationService/Authorize", {
      authorization: `Bearer ${minted.token}`,
      resource: "DELETE /api/kafka/topics",
    });
    expect(JSON.parse(denied.stdout)).toMatchObject({
      decision: "DECISION_DENY",
      denial: "DENIAL_FORBIDDEN",
      reason: "insufficient_scope",
    });
  }, SPAWNING_TIMEOUT_MS);

  it("runs the README's buf curl commands for mint, authorize, list and revoke as written", async () => {
    const [mintBlock, authorizeBlock, listBlock, revokeBlock, ...rest] = readmeBufCurlBlocks();
    expect(rest).toEqual([]);
    const minted = (await runReadmeBlock(mintBlock!, server)) as { token: string; record: { tokenId: string } };
    expect(minted.token).toMatch(/^pcl_/);
    const pasted = { token: minted.token, tokenId: minted.record.tokenId };
    expect(await runReadmeBlock(authorizeBlock!, server, pasted)).toMatchObject({ decision: "DECISION_ALLOW", libraries: ["lib-1"] });
    const listed = (await runReadmeBlock(listBlock!, server)) as { tokens: { tokenId: string }[] };
    expect(listed.tokens.map((token) => token.tokenId)).toContain(minted.record.tokenId);
    const revoked = (await runReadmeBlock(revokeBlock!, server, pasted)) as { record: { revokedAt?: string } };
    expect(revoked.record.revokedAt).toBeDefined();
    expect(await runReadmeBlock(authorizeBlock!, server, pasted)).toMatchObject({ decision: "DECISION_DENY", reason: "token_revoked" });
  }, SPAWNING_TIMEOUT_MS);

  it("reports a refused buf curl call with its gRPC code and a non-zero exit", async () => {
    const mint = await bufCurl(server.url, "portcullis.v1.TokenAdminService/MintToken", { scopes: ["*"] }, root);
    expect(mint.exitCode).not.toBe(0);
    expect(JSON.parse(mint.stderr)).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("scopes") });
  });

  it("speaks the Connect JSON protocol over HTTP/1.1", async () => {
    const call = (method: string, body: object, token?: string) =>
      fetch(`${server.url}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const minted = await call("portcullis.v1.TokenAdminService/MintToken", { scopes: ["tools:search"] }, root);
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };

    const decision = await call("portcullis.v1.AuthorizationService/Authorize", { authorization: token, resource: "tool:search" });
    expect(await decision.json()).toMatchObject({ decision: "DECISION_ALLOW", reason: "ok", scopes: ["tools:search"] });

    const public_ = await call("portcullis.v1.AuthorizationService/Authorize", { resource: "GET /health" });
    expect(await public_.json()).toEqual({ decision: "DECISION_ALLOW", reason: "public_resource" });

    const refused = await call("portcullis.v1.AuthorizationService/ResolveLibraries", { authorization: "Bearer pcl_nobody" });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ code: "unauthenticated", message: "credential rejected: unknown_token" });

    const forbidden = await call("portcullis.v1.TokenAdminService/ListTokens", {}, token);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { code: string }).code).toBe("permission_denied");
  });

  it("answers /healthz and /readyz over HTTP/1.1 and HTTP/2 without credentials", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "ready", config: expect.any(String) });
    expect((await fetch(`${server.url}/healthz`, { method: "POST" })).status).toBe(405);

    const session = http2.connect(server.url);
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":path": "/healthz" });
        let status = 0;
        let body = "";
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("data", (chunk: Buffer) => (body += chunk.toString()));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
      expect(answer).toEqual({ status: 200, body: '{"status":"ok"}' });
    } finally {
      session.close();
    }
  });
});
