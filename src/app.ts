import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { Config, Env } from "./config.js";
import { callerGate } from "./decision/caller-gate.js";
import { listen, type Listener } from "./http/listener.js";
import type { DecisionTransport } from "./observability/decision-recorder.js";
import { createObservability } from "./observability/observability.js";
import { openStore } from "./store/open-store.js";
import { wireAdministration } from "./wiring/administration.js";
import { configReloader, type ReloadOutcome, type ReloadTrigger } from "./wiring/config-reload.js";
import { watchConfigFile } from "./wiring/config-watch.js";
import { wireCredentials } from "./wiring/credentials.js";
import { wireHttpHandler } from "./wiring/http-handler.js";
import { buildLiveParts, liveCheck, liveEngine, type LiveParts } from "./wiring/live-parts.js";
import { wireOAuth } from "./wiring/oauth.js";
import { reloadable, type ReloadListener } from "./wiring/reloadable.js";
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
  /** Ends waits at once (Unavailable), stops accepting, finishes in-flight calls, closes the store. */
  stop(): Promise<void>;
}

/**
 * Wires configuration into a running server, one part after the other.
 * `reloadEnv` holds the variables `config` was loaded with: a reload loads
 * the file they name with them again, and that file is watched. Without it
 * the server cannot reload.
 */
export async function startPortcullis(config: Config, log: Logger, clock: Clock = systemClock, reloadEnv?: Env): Promise<RunningPortcullis> {
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  const observability = createObservability({ metricsEnabled: config.metricsEnabled, adminServices: [TokenAdminService] }, log);
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((settle) => (reportFailure = settle));
  const stopping = new AbortController();
  const store = observability.store(await openStore(config, reportFailure, (message) => log.warn(message)));
  if (store.backend === "embedded") {
    log.info({ dataDir: config.dataDir }, "store: embedded (data file); serves one replica only");
  } else {
    log.info({ prefix: config.redis?.prefix }, "store: redis; shared by every replica");
  }
  try {
    const credentials = await wireCredentials(config, store, clock, log);
    if (config.devAllowAll) {
      log.warn("DEV MODE: PORTCULLIS_DEV_ALLOW_ALL is set, every request is ALLOWED. Never use this in production.");
    }
    const partsDeps = { store, credentials, observability, clock, log };
    const live = reloadable(await buildLiveParts(config, partsDeps), (error) =>
      log.error({ err: error }, "a listener of configuration reloads failed; the new configuration is in use"),
    );
    observability.configLoaded(config.configHash);
    const decisions = (transport: DecisionTransport) => observability.decisions(liveEngine(live), transport);
    const administration = wireAdministration(config, store, credentials, callerGate(decisions("token_admin")), clock);
    const oauth = wireOAuth(config, store, clock, log, stopping.signal);
    const handler = wireHttpHandler({
      config,
      decisions,
      check: liveCheck(live),
      configHash: () => live.current().config.configHash,
      administration,
      oauth,
      store,
      observability,
      log,
    });
    const listener = await listen(config.listen.host, config.listen.port, handler, config.http);
    log.info({ configHash: config.configHash, address: `${listener.address.address}:${listener.address.port}` }, "portcullis listening (h2c and HTTP/1.1)");
    const reload = reloaderFor(reloadEnv, {
      live,
      build: (next, previous) => buildLiveParts(next, partsDeps, previous),
      applied: (next) => (log.level = next.logLevel),
      observability,
      log,
    });
    const configPath = reloadEnv?.PORTCULLIS_CONFIG;
    const watcher = configPath && config.watchConfig ? watchConfigFile(configPath, () => void reload("file"), log) : undefined;
    return {
      listener,
      failure,
      reload: (trigger = "call") => (stopping.signal.aborted ? Promise.resolve(stoppedOutcome) : reload(trigger)),
      onReloaded: (listener) => live.onReloaded(listener),
      async stop() {
        stopping.abort();
        watcher?.close();
        await listener.close(live.current().config.shutdownGraceMs);
        await oauth.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
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
