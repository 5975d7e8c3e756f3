import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { failedStart, startPortcullisProcess } from "../support/portcullis-process.js";
import { createTestPki } from "../support/tls-certificates.js";
import { curlTls } from "../support/tls-clients.js";

describe("the server process with TLS", () => {
  const pki = createTestPki();
  afterAll(() => pki.dispose());

  it("reads its certificate files again on SIGHUP and keeps serving; SIGHUP never ends it, with TLS or without", async () => {
    const serving = pki.server("server");
    const client = pki.client("client", ["DNS:client.example"]);
    const server = await startPortcullisProcess({
      env: { PORTCULLIS_TLS_CERT_FILE: serving.cert, PORTCULLIS_TLS_KEY_FILE: serving.key, PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert },
    });
    const cleartext = await startPortcullisProcess();
    try {
      expect(server.output()).toContain("portcullis listening (TLS with client certificates: HTTP/2 and HTTP/1.1 by ALPN)");
      const healthz = `https://localhost:${new URL(server.url).port}/healthz`;
      expect((await curlTls(pki, client, [healthz])).status).toBe(200);
      server.child.kill("SIGHUP");
      cleartext.child.kill("SIGHUP");
      await eventually(async () => server.output().includes("tls: files unchanged"), 10_000);
      expect((await curlTls(pki, client, [healthz])).status).toBe(200);
      expect((await fetch(`${cleartext.url}/healthz`)).status).toBe(200);
      expect([server.child.exitCode, cleartext.child.exitCode]).toEqual([null, null]);
    } finally {
      expect(await server.stop()).toBe(0);
      expect(await cleartext.stop()).toBe(0);
    }
  }, 90_000);

  it.each([
    [
      "caller identity without a client CA",
      () => ({
        PORTCULLIS_TLS_CERT_FILE: pki.server("a").cert,
        PORTCULLIS_TLS_KEY_FILE: pki.server("b").key,
        PORTCULLIS_CALLER_IDENTITY: '{"rules": [{"services": ["portcullis.v1.TokenAdminService"], "identities": ["*"]}]}',
      }),
      "PORTCULLIS_CALLER_IDENTITY: caller_identity: needs mTLS",
    ],
    ["cleartext on every interface without allow_insecure", () => ({ PORTCULLIS_LISTEN: "0.0.0.0:0" }), "PORTCULLIS_LISTEN: 0.0.0.0 is not a loopback address"],
    [
      "a certificate file that is not there",
      () => ({ PORTCULLIS_TLS_CERT_FILE: `${pki.dir}/missing.crt`, PORTCULLIS_TLS_KEY_FILE: pki.server("c").key }),
      `tls.cert_file: cannot read ${pki.dir}/missing.crt (ENOENT)`,
    ],
    [
      "a rule naming a service the server does not have",
      () => {
        const serving = pki.server("d");
        return {
          PORTCULLIS_TLS_CERT_FILE: serving.cert,
          PORTCULLIS_TLS_KEY_FILE: serving.key,
          PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
          PORTCULLIS_CALLER_IDENTITY: '{"rules": [{"services": ["portcullis.v1.TokenAdmin"], "identities": ["*"]}]}',
        };
      },
      'caller_identity.rules[0].services[0]: unknown service "portcullis.v1.TokenAdmin" (did you mean portcullis.v1.TokenAdminService?)',
    ],
  ])("refuses to start on %s, in one readable line", async (_case, env, line) => {
    const { code, stderr, stdout } = await failedStart(env());
    expect(code).toBe(1);
    expect(stderr).toContain(`portcullis: cannot start: ${line}`);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stdout).not.toContain("portcullis listening");
  }, 90_000);
});
