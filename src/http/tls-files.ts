import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import tls from "node:tls";
import { InvalidArgumentError } from "../errors.js";

/** The files a TLS listener is built from, as configured (`tls` section). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** mTLS: client certificates must chain to one of the certificates in this file. */
  clientCaFile?: string;
  minVersion: "TLSv1.2" | "TLSv1.3";
}

/** A context read from the files and checked, ready for the listener. */
export interface TlsCredentials {
  readonly context: tls.SecureContextOptions;
  /** Identifies what was read (every file's bytes), so a reload can tell whether anything changed. */
  readonly digest: string;
  /** The server certificate's expiry, for the log. */
  readonly notAfter: string;
}

/**
 * Reads the certificate chain, key and client CA, and refuses them unless
 * they make a working context: each file parses as PEM, the certificate has
 * not expired, the key matches it, the CA file holds at least one certificate. The error says
 * which file and why, never a byte of the key.
 */
export async function readTlsCredentials(files: TlsFiles, now: Date = new Date()): Promise<TlsCredentials> {
  const cert = await readNamed(files.certFile, "tls.cert_file");
  const key = await readNamed(files.keyFile, "tls.key_file");
  const ca = files.clientCaFile === undefined ? undefined : await readNamed(files.clientCaFile, "tls.client_ca_file");
  const leaf = firstCertificate(cert, "tls.cert_file", files.certFile);
  // Served, it would fail every client's handshake: the certificate in use (if any) is better.
  if (new Date(leaf.validTo) < now) throw new TlsFileError("tls.cert_file", `the certificate in ${files.certFile} expired on ${leaf.validTo}`);
  if (ca !== undefined) firstCertificate(ca, "tls.client_ca_file", files.clientCaFile!);
  const context: tls.SecureContextOptions = { cert, key, minVersion: files.minVersion, ...(ca === undefined ? {} : { ca }) };
  try {
    // The same call the listener makes: a key that does not match the certificate, or a key that is no key, fails here.
    tls.createSecureContext(context);
  } catch (error) {
    throw new TlsFileError("tls.key_file", `${files.keyFile} does not make a usable context with tls.cert_file (${opensslReason(error)})`);
  }
  const digest = createHash("sha256");
  for (const part of [cert, key, ca ?? Buffer.alloc(0)]) digest.update(createHash("sha256").update(part).digest());
  return { context, digest: digest.digest("hex"), notAfter: leaf.validTo };
}

/** Why TLS files were refused: the setting, and what is wrong with its file. */
export class TlsFileError extends InvalidArgumentError {}

async function readNamed(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TlsFileError(setting, `cannot read ${path} (${code})`);
  }
}

function firstCertificate(pem: Buffer, setting: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsFileError(setting, `no PEM certificate in ${path}`);
  }
}

/** OpenSSL's reason ("key values mismatch"), without the library's codes. */
function opensslReason(error: unknown): string {
  const message = error instanceof Error ? error.message : "unknown error";
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, "").slice(0, 200);
}
