import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key, as PEM files. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/**
 * A private CA made by `openssl` in a temporary directory, issuing server
 * and client certificates for a test. EC P-256 keys: quick to make.
 */
export interface TestPki {
  readonly dir: string;
  /** The CA's own certificate and key. */
  readonly ca: CertificateFiles;
  /** A server certificate for `localhost` and 127.0.0.1 (or the given SANs). */
  server(name: string, sans?: readonly string[]): CertificateFiles;
  /** A client certificate with these SANs, in openssl's syntax: `URI:spiffe://…`, `DNS:gw.example`. */
  client(name: string, sans: readonly string[]): CertificateFiles;
  /** A certificate good for both ends, as cert-manager issues with usages `server auth` and `client auth`. */
  serverAndClient(name: string, sans?: readonly string[]): CertificateFiles;
  /** A certificate whose validity ended a day before it began (openssl `-days -1`): expired from the moment it is made. */
  expired(name: string, usage: "server" | "client", sans?: readonly string[]): CertificateFiles;
  /** The PEM text of a file this PKI wrote. */
  read(path: string): Buffer;
  /** Removes every file. */
  dispose(): void;
}

const SERVER_SANS = ["DNS:localhost", "IP:127.0.0.1"];

export function createTestPki(label = "Portcullis test CA"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-pki-"));
  const path = (file: string) => join(dir, file);
  const ca = { cert: path("ca.crt"), key: path("ca.key") };
  writeFileSync(
    path("ca.cnf"),
    [
      "[req]",
      "distinguished_name = dn",
      "x509_extensions = ext",
      "prompt = no",
      "[dn]",
      `CN = ${label}`,
      "[ext]",
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign",
      "subjectKeyIdentifier = hash",
      "",
    ].join("\n"),
  );
  openssl(["req", "-x509", "-config", path("ca.cnf"), ...newEcKey(ca.key), "-out", ca.cert, "-days", "2"]);

  const issue = (name: string, sans: readonly string[], usage: "serverAuth" | "clientAuth" | "serverAuth,clientAuth", days = 2): CertificateFiles => {
    const files = { cert: path(`${name}.crt`), key: path(`${name}.key`) };
    const extensions = path(`${name}.ext`);
    writeFileSync(
      extensions,
      [
        "basicConstraints = CA:FALSE",
        "keyUsage = critical,digitalSignature",
        `extendedKeyUsage = ${usage}`,
        "authorityKeyIdentifier = keyid",
        ...(sans.length === 0 ? [] : [`subjectAltName = ${sans.join(",")}`]),
        "",
      ].join("\n"),
    );
    openssl(["req", "-new", ...newEcKey(files.key), "-subj", `/CN=${name}`, "-out", path(`${name}.csr`)]);
    openssl([
      "x509", "-req", "-in", path(`${name}.csr`), "-CA", ca.cert, "-CAkey", ca.key,
      "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", String(days), "-extfile", extensions, "-out", files.cert,
    ]);
    return files;
  };

  return {
    dir,
    ca,
    server: (name, sans = SERVER_SANS) => issue(name, sans, "serverAuth"),
    client: (name, sans) => issue(name, sans, "clientAuth"),
    serverAndClient: (name, sans = SERVER_SANS) => issue(name, sans, "serverAuth,clientAuth"),
    expired: (name, usage, sans = usage === "server" ? SERVER_SANS : []) => issue(name, sans, usage === "server" ? "serverAuth" : "clientAuth", -1),
    read: (file) => readFileSync(file),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function newEcKey(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile];
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}
