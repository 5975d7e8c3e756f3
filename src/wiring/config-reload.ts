import type { Logger } from "pino";
import { configSourceOf, loadConfig, type Config, type Env } from "../config.js";
import { InvalidArgumentError, PortcullisError } from "../errors.js";
import type { Observability } from "../observability/observability.js";
import { changedFixedSettings } from "./fixed-settings.js";
import type { LiveParts } from "./live-parts.js";
import type { Reloadable } from "./reloadable.js";

/** What asked for the reload: a file watcher fires for every write, a person (SIGHUP, reload()) means it. */
export type ReloadTrigger = "signal" | "file" | "call";

export type ReloadOutcome =
  /** The file changed and its configuration is now in use. */
  | { result: "success"; hash: string }
  /** The file is the one in use (or, for the watcher, the one refused last): nothing was done. */
  | { result: "unchanged"; hash: string }
  /** The file was refused; the configuration in use stays. `field` names the setting, when one is to blame. */
  | { result: "failure"; hash?: string; field?: string; reason: string };

export interface ConfigReloadDeps {
  /** The variables the server started with: a reload lays them over the new file again, as at start. */
  env: Env;
  live: Reloadable<LiveParts>;
  /** Builds the parts of a configuration beside those in place; throws when it cannot. */
  build(config: Config, previous: LiveParts): Promise<LiveParts>;
  /** Applies what the logger itself holds (its level) once a configuration is in place. */
  applied(config: Config): void;
  observability: Pick<Observability, "configLoaded" | "configReloaded">;
  log: Logger;
}

/**
 * Reloads the configuration file: reads it once, skips it when its hash is
 * the one in use, loads and checks it with the start's own code, refuses a
 * change to a setting that cannot change while running, builds the new parts
 * completely, and only then swaps them in. Anything that fails leaves the
 * configuration in use untouched. Reloads run one at a time.
 */
export function configReloader(deps: ConfigReloadDeps): (trigger: ReloadTrigger) => Promise<ReloadOutcome> {
  const { live, log } = deps;
  let queue: Promise<unknown> = Promise.resolve();
  /** The hash last refused: the watcher does not refuse (and count) the same broken file at every event in its directory. */
  let refusedHash: string | undefined;

  async function reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const running = live.current();
    let hash: string | undefined;
    try {
      const source = configSourceOf(deps.env);
      hash = source.hash;
      if (hash === running.config.configHash || (trigger === "file" && hash === refusedHash)) {
        log.debug({ trigger, hash }, "configuration file unchanged; nothing to reload");
        return { result: "unchanged", hash };
      }
      const config = loadConfig(deps.env, source);
      const fixed = changedFixedSettings(running.config, config);
      if (fixed.length > 0) {
        throw new InvalidArgumentError(fixed.join(", "), "cannot change while running; restart to apply (nothing was reloaded)");
      }
      const next = await deps.build(config, running);
      live.swap(next);
      refusedHash = undefined;
      deps.applied(config);
      deps.observability.configLoaded(hash);
      deps.observability.configReloaded("success");
      for (const warning of config.warnings) log.warn(`config: ${warning}`);
      if (config.devAllowAll) log.warn("DEV MODE: dev_allow_all is on, every request is ALLOWED. Never use this in production.");
      log.info({ trigger, hash, previousHash: running.config.configHash }, "configuration reloaded");
      return { result: "success", hash };
    } catch (error) {
      refusedHash = hash;
      deps.observability.configReloaded("failure");
      return refused(trigger, hash, running.config.configHash, error);
    }
  }

  function refused(trigger: ReloadTrigger, hash: string | undefined, inUse: string, error: unknown): ReloadOutcome {
    const context = { trigger, hash, inUseHash: inUse };
    if (error instanceof InvalidArgumentError) {
      // Configuration errors name the setting and never echo its value.
      log.error({ ...context, field: error.field }, `configuration reload refused: ${error.message}; the configuration in use stays`);
      return { result: "failure", hash, field: error.field, reason: error.message };
    }
    // Anything else goes to the log as it is (src/log.ts masks credentials); the outcome gets a fixed wording.
    const reason = error instanceof PortcullisError ? error.message : "building the new configuration's parts failed";
    log.error({ ...context, err: error }, `configuration reload refused: ${reason}; the configuration in use stays`);
    return { result: "failure", hash, reason };
  }

  return (trigger) => {
    const outcome = queue.then(() => reload(trigger));
    queue = outcome;
    return outcome;
  };
}
