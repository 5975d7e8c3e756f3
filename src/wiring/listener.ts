import type { Logger } from "pino";
import type { Config } from "../config.js";
import { listen, type HttpHandlers, type Listener } from "../http/listener.js";
import type { TlsCredentials } from "../http/tls-files.js";
import { tlsReloader, type TlsReloadResult } from "../http/tls-reloader.js";
import type { Observability } from "../observability/observability.js";

export interface WiredListener {
  readonly listener: Listener;
  /** Reads the TLS files again; "no_tls" on a cleartext listener. */
  reloadTls(): Promise<TlsReloadResult | "no_tls">;
  /** Stops watching the TLS files. */
  close(): void;
}

/**
 * The port, in cleartext or TLS (with client certificates when a client CA
 * is set), and the watcher that keeps its certificates current.
 */
export async function wireListener(
  config: Config,
  handler: HttpHandlers,
  tlsCredentials: TlsCredentials | undefined,
  observability: Observability,
  log: Logger,
): Promise<WiredListener> {
  const mutual = config.tls?.clientCaFile !== undefined;
  const listener = await listen(
    config.listen.host,
    config.listen.port,
    handler,
    config.http,
    tlsCredentials && { context: tlsCredentials.context, requireClientCertificate: mutual },
  );
  const reloader =
    config.tls &&
    tlsCredentials &&
    tlsReloader({
      files: config.tls,
      initial: tlsCredentials,
      apply: (context) => listener.setSecureContext(context),
      log,
      counted: (result) => observability.tlsReloaded(result),
    });
  const mode = tlsCredentials === undefined ? "h2c and HTTP/1.1" : `TLS${mutual ? " with client certificates" : ""}: HTTP/2 and HTTP/1.1 by ALPN`;
  log.info({ configHash: config.configHash, address: `${listener.address.address}:${listener.address.port}` }, `portcullis listening (${mode})`);
  return {
    listener,
    reloadTls: async () => (reloader ? reloader.reload() : "no_tls"),
    close: () => reloader?.close(),
  };
}
