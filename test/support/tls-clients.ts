import * as grpc from "@grpc/grpc-js";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import tls from "node:tls";
import type { CertificateFiles, TestPki } from "./tls-certificates.js";

/** What curl answered: its exit code, the HTTP status and version, and the body. */
export interface CurlAnswer {
  exitCode: number;
  status: number;
  httpVersion: string;
  body: string;
}

/**
 * curl over TLS against the test CA, with a client certificate when given.
 * `args` are curl's own (method, headers, body, URL).
 */
export function curlTls(pki: TestPki, client: CertificateFiles | undefined, args: string[]): Promise<CurlAnswer> {
  const certificate = client === undefined ? [] : ["--cert", client.cert, "--key", client.key];
  const all = ["-sS", "--max-time", "10", "--cacert", pki.ca.cert, ...certificate, "-w", "\n%{http_code} %{http_version}", ...args];
  return new Promise((resolve) => {
    execFile("curl", all, { timeout: 15_000 }, (error, stdout) => {
      const lastBreak = stdout.lastIndexOf("\n");
      const [status, httpVersion] = stdout.slice(lastBreak + 1).split(" ");
      const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ exitCode, status: Number(status ?? 0), httpVersion: httpVersion ?? "", body: stdout.slice(0, Math.max(lastBreak, 0)) });
    });
  });
}

/** grpc-js channel credentials trusting the test CA, presenting `client` when given. */
export function grpcTls(pki: TestPki, client?: CertificateFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    pki.read(pki.ca.cert),
    client === undefined ? null : pki.read(client.key),
    client === undefined ? null : pki.read(client.cert),
  );
}

/** node:tls / node:http2 options trusting the test CA, presenting `client` when given. */
export function nodeTls(pki: TestPki, client?: CertificateFiles): tls.ConnectionOptions & http2.SecureClientSessionOptions {
  return {
    ca: pki.read(pki.ca.cert),
    ...(client === undefined ? {} : { cert: pki.read(client.cert), key: pki.read(client.key) }),
  };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
export function servedFingerprint(port: number, pki: TestPki, client?: CertificateFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ALPNProtocols: ["http/1.1"], ...nodeTls(pki, client) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}
