import { watch, type FSWatcher } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Logger } from "pino";
import type tls from "node:tls";
import { readTlsCredentials, TlsFileError, type TlsCredentials, type TlsFiles } from "./tls-files.js";

/** What one reload did: served new credentials, found the files as they were, or refused them. */
export type TlsReloadResult = "reloaded" | "unchanged" | "failed";

export const TLS_RELOAD_RESULTS: readonly TlsReloadResult[] = ["reloaded", "unchanged", "failed"];

export interface TlsReloader {
  /**
   * Reads the files again; when they changed and make a working context,
   * new connections get it (established ones keep theirs). A refused file
   * leaves the context in use and is logged with the reason.
   */
  reload(): Promise<TlsReloadResult>;
  /** Stops watching. */
  close(): void;
}

export interface TlsReloaderParts {
  files: TlsFiles;
  /** What the listener was started with. */
  initial: TlsCredentials;
  /** Hands a new context to the listener. */
  apply(context: tls.SecureContextOptions): void;
  log: Logger;
  /** Hears every reload's result (the metric). */
  counted(result: TlsReloadResult): void;
  /** Quiet time after the last change in a watched directory before reading (ms). */
  settleMs?: number;
}

/**
 * Reloads the listener's certificate, key and client CA when their
 * directories change and when asked (SIGHUP). Directories, not files, are
 * watched: cert-manager and Kubernetes secret mounts replace a file by
 * swapping a symlink, which a watch on the old file never sees. A burst of
 * changes (certificate, then key) is read once it settles; a pair caught
 * half-written fails the key check, keeps the old context, and the next
 * change reads it again.
 */
export function tlsReloader(parts: TlsReloaderParts): TlsReloader {
  const { files, log } = parts;
  let digest = parts.initial.digest;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const reloadNow = async (): Promise<TlsReloadResult> => {
    let result: TlsReloadResult;
    try {
      const credentials = await readTlsCredentials(files);
      if (credentials.digest === digest) {
        result = "unchanged";
        log.debug("tls: files unchanged");
      } else {
        parts.apply(credentials.context);
        digest = credentials.digest;
        result = "reloaded";
        log.info({ notAfter: credentials.notAfter }, "tls: new certificate loaded; new connections use it, established ones keep theirs");
      }
    } catch (error) {
      result = "failed";
      const reason = error instanceof TlsFileError ? error.message : `cannot use the new files (${String(error)})`;
      log.error({ reason }, "tls: reload refused, the certificate in use stays");
    }
    parts.counted(result);
    return result;
  };

  const reload = () => {
    // One reload at a time: a later one reads the files after an earlier one has applied what it read.
    const next = chain.then(reloadNow);
    chain = next;
    return next;
  };

  const directories = [...new Set([files.certFile, files.keyFile, files.clientCaFile].flatMap((file) => (file ? [dirname(resolve(file))] : [])))];
  const watchers: FSWatcher[] = directories.map((directory) => {
    const watcher = watch(directory, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), parts.settleMs ?? 250);
    });
    // A directory removed or unreadable ends its watch; SIGHUP still reloads.
    watcher.on("error", (error) => log.warn({ directory, reason: error.message }, "tls: no longer watching the directory; reload with SIGHUP"));
    return watcher;
  });

  return {
    reload,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
