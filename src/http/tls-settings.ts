import { Type, type Static } from "@sinclair/typebox";
import { annotations, section, text } from "../settings-schema/schema-kit.js";
import type { TlsFiles } from "./tls-files.js";

const TLS_VERSIONS = ["TLSv1.2", "TLSv1.3"] as const;
const DEFAULT_MIN_VERSION = "TLSv1.2";

export const tlsSchema = section(
  {
    description:
      "TLS on the listening port, for HTTP/2 (ALPN `h2`) and HTTP/1.1 alike; with `client_ca_file`, mTLS. Without this section the port speaks cleartext (see [TLS](tls.md))",
    defaultText: "none: cleartext",
  },
  {
    client_ca_file: text({
      env: "PORTCULLIS_TLS_CLIENT_CA_FILE",
      defaultText: "none: no client certificate asked for",
      description:
        "PEM file of the CA certificates client certificates must chain to: a client without such a certificate is refused during the handshake (mTLS). Needed by `caller_identity`",
    }),
    min_version: Type.Union(
      TLS_VERSIONS.map((version) => Type.Literal(version)),
      annotations(
        { env: "PORTCULLIS_TLS_MIN_VERSION", default: DEFAULT_MIN_VERSION, description: "oldest TLS version accepted" },
        `must be one of ${TLS_VERSIONS.join(", ")}`,
      ),
    ),
  },
  {
    cert_file: text({
      env: "PORTCULLIS_TLS_CERT_FILE",
      description: "PEM file of the server certificate, then its intermediates; reloaded on change and on SIGHUP",
    }),
    key_file: text({ env: "PORTCULLIS_TLS_KEY_FILE", description: "PEM file of the certificate's private key; reloaded with it" }),
  },
);

export function tlsFiles(file: Static<typeof tlsSchema> | undefined): TlsFiles | undefined {
  if (file === undefined) return undefined;
  return {
    certFile: file.cert_file,
    keyFile: file.key_file,
    clientCaFile: file.client_ca_file,
    minVersion: file.min_version ?? DEFAULT_MIN_VERSION,
  };
}
