import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { Config, Env } from "./config.js";
import { callerGate } from "./decision/caller-gate.js";
import type { Listener } from "./http/listener.js";
import { readTlsCredentials } from "./http/tls-files.js";
import type { TlsReloadResult } from "./http/tls-reloader.js";
import type { DecisionTransport } from "./observability/decision-recorder.js";
import { decisionLogWarnings } from "./observability/log-settings.js";
import { createObservability } from "./observability/observability.js";
import { openStore } from "./store/open-store.js";
import type { RunningTracing, TracingParts } from "./tracing/tracer-provider.js";
import { wireAdministration } from "./wiring/administration.js";
import { configReloader, type ReloadOutcome, type ReloadTrigger } from "./wiring/config-reload.js";
import { watchConfigFile } from "./wiring/config-watch.js";
import { wireCredentials } from "./wiring/credentials.js";
import { wireHttpHandler } from "./wiring/http-handler.js";
import { wireListener } from "./wiring/listener.js";
import { buildLiveParts, liveCheck, liveEncodedCheck, liveEngine, type LiveParts } from "./wiring/live-parts.js";
import { wireOAuth } from "./wiring/oauth.js";
import { keyRingOf, resealAtRest } from "./wiring/sealing.js";
import { encryptionWarnings } from "./sealing/encryption-settings.js";
import { adminSigningKeyStore, withSealedSigningKeys } from "./sealing/sealed-signing-keys.js";
import { reloadable, type ReloadListener } from "./wiring/reloadable.js";
import { OwnerService } from "../gen/portcullis/v1/owners_pb.js";
import { TokenAdminService } from "../gen/portcullis/v1/token_admin_pb.js";

export interface RunningPortcullis {
  readonly listener: Listener;
  /**
   * Settles when the server can no longer serve safely (the embedded store
   * lost its data-dir lock and refuses writes); the owner should stop it.
   */
  readonly failure: Promise<Error>;
  /**
   * Reads the configuration file again and, when it changed and is valid,
   * swaps in its policy, issuers and other live settings between two
   * decisions (docs/reload.md). Never throws: a refusal is logged, counted
   * and answered, and the configuration in use stays.
   */
  reload(trigger?: ReloadTrigger): Promise<ReloadOutcome>;
  /** Called after each successful reload (to flush what was cached under the previous configuration). */
  onReloaded(listener: ReloadListener<LiveParts>): () => void;
  /**
   * Reads the TLS certificate, key and client CA again (SIGHUP): new
   * connections get them, established ones keep theirs, bad files leave the
   * old ones in use. "no_tls" on a cleartext listener.
   */
  reloadTls(): Promise<TlsReloadResult | "no_tls">;
  /** Ends waits at once (Unavailable), stops accepting, finishes in-flight calls, closes the store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * The variables `config` was loaded with: a reload loads the file they
   * name with them again, and that file is watched. Without them the server
   * cannot reload.
   */
  reloadEnv?: Env;
  /** Where spans go when tracing is on, instead of the OTLP exporter (tests). */
  tracing?: TracingParts;
}

/** Wires configuration into a running server, one part after the other. */
export async function startPortcullis(
  config: Config,
  log: Logger,
  clock: Clock = systemClock,
  options: StartOptions = {},
): Promise<RunningPortcullis> {
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  // Before anything opens: a certificate that cannot serve stops the start with the file's name.
  const tlsCredentials = config.tls && (await readTlsCredentials(config.tls));
  // Loaded only when on: an untraced server does not even load the OpenTelemetry SDK.
  const tracer: RunningTracing | undefined =
    config.tracing && (await import("./tracing/tracer-provider.js")).startTracing(config.tracing, log, options.tracing);
  if (config.tracing) log.info({ serviceName: config.tracing.serviceName }, "tracing: on");
  const tracing = tracer?.tracing;
  const externalIssuers = config.jwt.issuers.length + config.jwt.requestIssuers.length;
  for (const warning of decisionLogWarnings(config.decisionLog, externalIssuers)) log.warn(`decision log: ${warning}`);
  const observability = createObservability(
    { metricsEnabled: config.metricsEnabled, adminServices: [TokenAdminService, OwnerService], decisionLog: config.decisionLog, tracing },
    log,
  );
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((settle) => (reportFailure = settle));
  const stopping = new AbortController();
  for (const warning of encryptionWarnings(config.encryption)) log.warn(`config: ${warning}`);
  const sealer = keyRingOf(config.encryption);
  const storeAsStored = observability.store(
    await openStore(config, reportFailure, (message) => log.warn(message)).catch(async (error: unknown) => {
      await tracer?.shutdown();
      throw error;
    }),
  );
  // Signing keys are sealed and opened between the store and every reader and writer of them.
  const store = withSealedSigningKeys(storeAsStored, sealer);
  if (store.backend === "embedded") {
    log.info({ dataDir: config.dataDir }, "store: embedded (data file); serves one replica only");
  } else {
    log.info({ prefix: config.redis?.prefix }, "store: redis; shared by every replica");
  }
  try {
    await resealAtRest(storeAsStored, sealer, clock, log);
    const credentials = await wireCredentials(config, store, clock, log);
    if (config.devAllowAll) {
      log.warn("DEV MODE: PORTCULLIS_DEV_ALLOW_ALL is set, every request is ALLOWED. Never use this in production.");
    }
    const oauth = wireOAuth(config, store, sealer, clock, log, stopping.signal);
    const partsDeps = { credentials, observability, clock, log, tracing, vault: oauth.vault };
    const live = reloadable(await buildLiveParts(config, partsDeps), (error) =>
      log.error({ err: error }, "a listener of configuration reloads failed; the new configuration is in use"),
    );
    // Records and verified JWTs were cached under the previous issuers and policy.
    live.onReloaded(() => credentials.caches.clear());
    observability.configLoaded(config.configHash);
    const decisions = (transport: DecisionTransport) => observability.decisions(liveEngine(live), transport);
    const adminSigningKeys = adminSigningKeyStore(storeAsStored.signingKeys, sealer);
    const administration = wireAdministration(config, store, adminSigningKeys, credentials, callerGate(decisions("token_admin")), clock);
    const handler = wireHttpHandler({
      config,
      decisions,
      check: liveCheck(live),
      encodedCheck: liveEncodedCheck(live),
      configHash: () => live.current().config.configHash,
      administration,
      oauth,
      // Probes and the JWKS (public keys only) need no key opened: a key no configured key opens still publishes.
      store: storeAsStored,
      observability,
      log,
      stopping: stopping.signal,
    });
    const port = await wireListener(config, handler, tlsCredentials, observability, log);
    const reload = reloaderFor(options.reloadEnv, {
      live,
      build: (next, previous) => buildLiveParts(next, partsDeps, previous),
      applied: (next) => (log.level = next.logLevel),
      observability,
      log,
    });
    const configPath = options.reloadEnv?.PORTCULLIS_CONFIG;
    const watcher = configPath && config.watchConfig ? watchConfigFile(configPath, () => void reload("file"), log) : undefined;
    return {
      listener: port.listener,
      failure,
      reload: (trigger = "call") => (stopping.signal.aborted ? Promise.resolve(stoppedOutcome) : reload(trigger)),
      onReloaded: (listener) => live.onReloaded(listener),
      reloadTls: () => port.reloadTls(),
      async stop() {
        // First: waits end with Unavailable and health Watch streams say NOT_SERVING, instead of holding the grace period.
        stopping.abort();
        watcher?.close();
        port.close();
        await port.listener.close(live.current().config.shutdownGraceMs);
        await oauth.close();
        await credentials.stop();
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

const stoppedOutcome: ReloadOutcome = { result: "failure", reason: "the server is stopping" };

function reloaderFor(
  env: Env | undefined,
  deps: Omit<Parameters<typeof configReloader>[0], "env">,
): (trigger: ReloadTrigger) => Promise<ReloadOutcome> {
  if (env === undefined) {
    return async () => ({ result: "failure", reason: "this server was started without a configuration source to reload" });
  }
  return configReloader({ ...deps, env });
}
