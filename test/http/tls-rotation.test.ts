import { X509Certificate } from "node:crypto";
import http2 from "node:http2";
import { copyFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/tls-certificates.js";
import { curlTls, nodeTls, servedFingerprint } from "../support/tls-clients.js";

/**
 * The layout of a Kubernetes secret volume (and cert-manager's): the files
 * are symlinks through `..data`, itself a symlink to a timestamped
 * directory; an update writes a new directory and swaps `..data` in one
 * rename.
 */
class SecretMount {
  private version = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  get certFile(): string {
    return join(this.dir, "tls.crt");
  }
  get keyFile(): string {
    return join(this.dir, "tls.key");
  }
  publish(files: { "tls.crt": Buffer | string; "tls.key": Buffer | string }): void {
    const versioned = `..v${++this.version}`;
    mkdirSync(join(this.dir, versioned));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, versioned, name), content);
    symlinkSync(versioned, join(this.dir, "..data_tmp"));
    renameSync(join(this.dir, "..data_tmp"), join(this.dir, "..data"));
    if (this.version === 1) for (const name of Object.keys(files)) symlinkSync(join("..data", name), join(this.dir, name));
  }
}

describe("certificate rotation on a running TLS listener", () => {
  let pki: TestPki;
  let mount: SecretMount;
  let server: InProcessPortcullis;
  let port: number;
  let client: CertificateFiles;
  let first: CertificateFiles;
  let second: CertificateFiles;
  const fingerprintOf = (files: CertificateFiles) => new X509Certificate(pki.read(files.cert)).fingerprint256;
  const served = (): Promise<string> => servedFingerprint(port, pki, client);
  const certificate = (files: CertificateFiles) => ({ "tls.crt": pki.read(files.cert), "tls.key": pki.read(files.key) });
  const reloads = async (result: string) => {
    const answer = await curlTls(pki, client, [`https://localhost:${port}/metrics`]);
    return sampleValue(parseSamples(answer.body), "portcullis_tls_reloads_total", { result }) ?? 0;
  };

  beforeAll(async () => {
    pki = createTestPki();
    client = pki.client("client", ["DNS:client.example"]);
    first = pki.server("server-1");
    second = pki.server("server-2");
    mount = new SecretMount(join(pki.dir, "mount"));
    mount.publish(certificate(first));
    copyFileSync(pki.ca.cert, join(pki.dir, "client-ca.crt"));
    server = await startInProcess({
      PORTCULLIS_TLS_CERT_FILE: mount.certFile,
      PORTCULLIS_TLS_KEY_FILE: mount.keyFile,
      PORTCULLIS_TLS_CLIENT_CA_FILE: join(pki.dir, "client-ca.crt"),
    });
    port = server.running.listener.address.port;
  });
  afterAll(async () => {
    await server?.stop();
    pki?.dispose();
  });

  it("serves a certificate swapped in on disk to new connections without a restart, while an established HTTP/2 connection keeps working", async () => {
    expect(await served()).toBe(fingerprintOf(first));
    const session = http2.connect(`https://localhost:${port}`, nodeTls(pki, client));
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":path": path });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.resume();
        stream.end();
      });
    try {
      expect(await get("/healthz")).toBe(200);
      const reloaded = await reloads("reloaded");

      mount.publish(certificate(second));
      await eventually(async () => (await served()) === fingerprintOf(second), 10_000);

      // The connection made before the swap is the same one, on its old certificate, and still answers.
      expect(session.closed || session.destroyed).toBe(false);
      expect((session.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256).toBe(
        fingerprintOf(first),
      );
      expect(await get("/healthz")).toBe(200);
      expect(await reloads("reloaded")).toBe(reloaded + 1);
      expect(server.output()).toContain("tls: new certificate loaded");
    } finally {
      session.close();
    }
  });

  it("keeps the certificate in use when a replacement is broken, says why, and counts it", async () => {
    const inUse = await served();
    const failedBefore = await reloads("failed");

    mount.publish({ "tls.crt": pki.read(pki.server("server-3").cert), "tls.key": "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n" });
    await eventually(async () => (await reloads("failed")) > failedBefore, 10_000);
    expect(await served()).toBe(inUse);
    expect(server.output()).toMatch(/"reason":"tls.key_file: .*does not make a usable context with tls.cert_file.*","msg":"tls: reload refused, the certificate in use stays"/);

    // A key of another certificate, through SIGHUP's path: refused alike.
    const other = pki.server("server-4");
    mount.publish({ "tls.crt": pki.read(pki.server("server-5").cert), "tls.key": pki.read(other.key) });
    expect(await server.running.reloadTls()).toBe("failed");
    expect(await served()).toBe(inUse);
    expect(server.output()).toContain("key values mismatch");
    expect(server.output()).not.toContain("PRIVATE KEY");
  });

  it("reloads the same files as unchanged, and answers reloadTls with what it did", async () => {
    const good = pki.server("server-6");
    mount.publish(certificate(good));
    await eventually(async () => (await served()) === fingerprintOf(good), 10_000);
    expect(await server.running.reloadTls()).toBe("unchanged");
  });
});
