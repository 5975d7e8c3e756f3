import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { lock } from "proper-lockfile";
import { FailedPreconditionError } from "../../errors.js";

/** The lock: a directory inside the data dir whose mtime the holder refreshes. */
export const DATA_DIR_LOCK = "portcullis.lock";

/**
 * Why mtime staleness and not a pid check: in a container every Portcullis
 * is pid 1, so a pid in a lock left by a killed container names the new
 * process itself, and on a shared volume the pid belongs to another
 * machine's namespace. A refreshed mtime means the same everywhere. The
 * price: after a SIGKILL the next start is refused until the lock has gone
 * unrefreshed for `staleMs` (refreshed every staleMs/2), and a holder whose
 * event loop stalls longer than that can be taken over (it then notices at
 * its next refresh and stops; see `lost`). 10 s keeps a crash-restart loop
 * short while no live process stalls that long.
 */
export const DEFAULT_LOCK_STALE_MS = 10_000;
/** proper-lockfile raises anything lower to this. */
export const MIN_LOCK_STALE_MS = 2000;

export interface DataDirLock {
  /** Settles once the lock was found taken over or removed while held; never otherwise. */
  readonly lost: Promise<Error>;
  /** Removes the lock; a no-op once it was lost. */
  release(): Promise<void>;
}

/**
 * Takes the data dir for this process alone, for as long as it runs.
 * Fails with a message an operator can act on when another process holds
 * it, and with the cause for any other error: the store never opens
 * without the lock.
 */
export async function lockDataDir(dataDir: string, staleMs: number): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  const lockPath = join(dir, DATA_DIR_LOCK);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let reportLost!: (error: Error) => void;
  const lost = new Promise<Error>((settle) => (reportLost = settle));
  let state: "held" | "lost" | "released" = "held";
  let unlock: () => Promise<void>;
  try {
    unlock = await lock(dir, {
      lockfilePath: lockPath,
      stale: staleMs,
      onCompromised(error) {
        // A refresh already under way when the lock was released can still report it gone.
        if (state !== "held") return;
        state = "lost";
        reportLost(new Error(`lost the lock on data dir ${dir} (${error.message}); another process may be writing there now`));
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOCKED") {
      throw new FailedPreconditionError(
        `another Portcullis process appears to be using data dir ${dir} (its lock ${lockPath} is held and was refreshed ` +
          `less than ${staleMs / 1000} s ago). The embedded store serves one process only: stop the other process, ` +
          `or use Redis (REDIS_URL) for several replicas. A lock left by a killed process is taken over once it has ` +
          `not been refreshed for ${staleMs / 1000} s (PORTCULLIS_DATA_DIR_LOCK_STALE_MS).`,
        { cause: error },
      );
    }
    throw new FailedPreconditionError(`cannot lock data dir ${dir} (${code ?? (error as Error).message})`, { cause: error });
  }
  return {
    lost,
    async release() {
      if (state !== "held") return;
      state = "released";
      await unlock();
    },
  };
}
