import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { callerGate } from "./decision/caller-gate.js";
import { DecisionEngine } from "./decision/engine.js";
import { listen, type Listener } from "./http/listener.js";
import { readTlsCredentials } from "./http/tls-files.js";
import { tlsReloader, type TlsReloadResult } from "./http/tls-reloader.js";
import type { DecisionTransport } from "./observability/decision-recorder.js";
import { createObservability } from "./observability/observability.js";
import { Policy } from "./policy/policy.js";
import { openStore } from "./store/open-store.js";
import type { RunningTracing, TracingParts } from "./tracing/tracer-provider.js";
import { wireAdministration } from "./wiring/administration.js";
import { wireCredentials } from "./wiring/credentials.js";
import { wireHttpHandler } from "./wiring/http-handler.js";
import { wireOAuth } from "./wiring/oauth.js";
import { TokenAdminService } from "../gen/portcullis/v1/token_admin_pb.js";

export interface RunningPortcullis {
  readonly listener: Listener;
  /**
   * Settles when the server can no longer serve safely (the embedded store
   * lost its data-dir lock and refuses writes); the owner should stop it.
   */
  readonly failure: Promise<Error>;
  /**
   * Reads the TLS certificate, key and client CA again (SIGHUP): new
   * connections get them, established ones keep theirs, bad files leave the
   * old ones in use. "no_tls" on a cleartext listener.
   */
  reloadTls(): Promise<TlsReloadResult | "no_tls">;
  /** Stops accepting, finishes in-flight calls, closes the store. */
  stop(): Promise<void>;
}

/** Parts a test may put in place of the configured ones. */
export interface PortcullisParts {
  /** Where spans go when tracing is on, instead of the OTLP exporter. */
  tracing?: TracingParts;
}

/** Wires configuration into a running server, one part after the other. */
export async function startPortcullis(
  config: Config,
  log: Logger,
  clock: Clock = systemClock,
  parts: PortcullisParts = {},
): Promise<RunningPortcullis> {
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  // Before anything opens: a certificate that cannot serve stops the start with the file's name.
  const tlsCredentials = config.tls && (await readTlsCredentials(config.tls));
  const policy = new Policy(config.policy);
  // Loaded only when on: an untraced server does not even load the OpenTelemetry SDK.
  const tracer: RunningTracing | undefined =
    config.tracing && (await import("./tracing/tracer-provider.js")).startTracing(config.tracing, log, parts.tracing);
  if (config.tracing) log.info({ serviceName: config.tracing.serviceName }, "tracing: on");
  const tracing = tracer?.tracing;
  const observability = createObservability({ metricsEnabled: config.metricsEnabled, adminServices: [TokenAdminService], tracing }, log);
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((settle) => (reportFailure = settle));
  const store = observability.store(
    await openStore(config, reportFailure, (message) => log.warn(message)).catch(async (error: unknown) => {
      await tracer?.shutdown();
      throw error;
    }),
  );
  if (store.backend === "embedded") {
    log.info({ dataDir: config.dataDir }, "store: embedded (data file); serves one replica only");
  } else {
    log.info({ prefix: config.redis?.prefix }, "store: redis; shared by every replica");
  }
  try {
    const credentials = await wireCredentials(config, store, clock, log, tracing);
    if (config.devAllowAll) {
      log.warn("DEV MODE: PORTCULLIS_DEV_ALLOW_ALL is set, every request is ALLOWED. Never use this in production.");
    }
    const engine = new DecisionEngine(policy, credentials.authenticator, { allowAll: config.devAllowAll, singleUse: credentials.ledger });
    const decisions = (transport: DecisionTransport) => observability.decisions(engine, transport);
    const administration = wireAdministration(config, store, credentials, callerGate(decisions("token_admin")), clock);
    const oauth = wireOAuth(config, store, clock, log);
    const stopping = new AbortController();
    const handler = wireHttpHandler({ config, decisions, administration, oauth, store, observability, log, stopping: stopping.signal });
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
    log.info({ address: `${listener.address.address}:${listener.address.port}` }, `portcullis listening (${mode})`);
    return {
      listener,
      failure,
      reloadTls: async () => (reloader ? reloader.reload() : "no_tls"),
      async stop() {
        // First, so health Watch streams say NOT_SERVING and end instead of holding the grace period.
        stopping.abort();
        reloader?.close();
        await listener.close(config.shutdownGraceMs);
        await oauth.close();
        await store.close();
        // Last: spans of the calls just finished are exported too.
        await tracer?.shutdown();
      },
    };
  } catch (error) {
    await store.close();
    await tracer?.shutdown();
    throw error;
  }
}
