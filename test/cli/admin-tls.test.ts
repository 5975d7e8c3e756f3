import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleAdminCli, tableRows, type BundledCli } from "../support/admin-cli.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/tls-certificates.js";

const OPERATOR = "dns:ops.example.org";

describe("the admin CLI against a server on TLS with client certificates", () => {
  let cli: BundledCli;
  let pki: TestPki;
  let server: InProcessPortcullis;
  let url: string;
  let root: string;
  let operator: CertificateFiles;
  let stranger: CertificateFiles;
  beforeAll(async () => {
    pki = createTestPki();
    const serving = pki.server("server");
    operator = pki.client("operator", ["DNS:ops.example.org"]);
    stranger = pki.client("stranger", ["DNS:app.example.org"]);
    [cli, server] = await Promise.all([
      bundleAdminCli(),
      startInProcess({
        PORTCULLIS_TLS_CERT_FILE: serving.cert,
        PORTCULLIS_TLS_KEY_FILE: serving.key,
        PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
        PORTCULLIS_CALLER_IDENTITY: JSON.stringify({ rules: [{ services: ["portcullis.v1.TokenAdminService"], identities: [OPERATOR] }] }),
      }),
    ]);
    url = `https://localhost:${server.running.listener.address.port}`;
    root = await server.rootToken();
  });
  afterAll(async () => {
    await server?.stop();
    await cli?.cleanup();
    pki?.dispose();
  });

  const runAs = (client: CertificateFiles | undefined, args: string[]) =>
    cli.run([
      "--url", url, "--token", root, "--ca-file", pki.ca.cert,
      ...(client === undefined ? [] : ["--cert-file", client.cert, "--key-file", client.key]),
      ...args,
    ]);

  it("mints and lists tokens with the operator's certificate, the server verified by the CA file", async () => {
    const minted = await runAs(operator, ["tokens", "mint", "--scope", "api:read", "--name", "over-mtls"]);
    expect(minted.exitCode, minted.stderr).toBe(0);
    const listed = await runAs(operator, ["tokens", "list"]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(tableRows(listed.stdout).map((row) => row.NAME)).toContain("over-mtls");
  });

  it("fails with one line and a non-zero exit when it has no client certificate to present", async () => {
    const answer = await runAs(undefined, ["tokens", "list"]);
    expect(answer.exitCode).toBe(1);
    expect(answer.stderr.trim().split("\n")).toHaveLength(1);
    expect(answer.stderr).toMatch(/^portcullis-admin: /);
    expect(answer.stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
  });

  it("is refused with caller_not_allowed when its certificate is not an operator's", async () => {
    const answer = await runAs(stranger, ["tokens", "list"]);
    expect(answer.exitCode).toBe(1);
    expect(answer.stderr).toMatch(/^portcullis-admin: PermissionDenied: caller_not_allowed/);
  });

  it("refuses a server certificate no CA file vouches for", async () => {
    const answer = await cli.run(["--url", url, "--token", root, "--cert-file", operator.cert, "--key-file", operator.key, "tokens", "list"]);
    expect(answer.exitCode).toBe(1);
    expect(answer.stderr).toMatch(/^portcullis-admin: .*certificate/i);
  });
});
