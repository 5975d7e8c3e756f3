import { watch, type FSWatcher } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";

/**
 * Quiet time after the last event before the file is read: an editor or a
 * copy writes a file in several steps, and a Kubernetes ConfigMap update
 * renames a directory and swaps two symlinks.
 */
export const CONFIG_WATCH_DEBOUNCE_MS = 250;

/**
 * Calls `changed` once things settle after any change in the directory that
 * holds the configuration file. The directory, not the file: a ConfigMap
 * mount replaces the file by swapping the `..data` symlink beside it, and an
 * atomic save renames a new file over the old, and a watch on the old file
 * sees neither. The caller compares the file's hash, so an event about
 * another file of the directory costs one read.
 */
export function watchConfigFile(path: string, changed: () => void, log: Logger, debounceMs = CONFIG_WATCH_DEBOUNCE_MS): { close(): void } {
  const directory = dirname(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    // Not persistent: a watch alone never keeps a stopping process alive.
    watcher = watch(directory, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(changed, debounceMs);
      timer.unref();
    });
  } catch (error) {
    log.warn({ directory, err: error }, "cannot watch the configuration file's directory; reload with SIGHUP");
    return { close() {} };
  }
  watcher.on("error", (error) => log.warn({ directory, err: error }, "watching the configuration file's directory failed; reload with SIGHUP"));
  log.info({ directory }, "watching the configuration file for changes");
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
