import { randomBytes } from "node:crypto";
import { open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const TEMP_SUFFIX = ".tmp";

/**
 * Replaces `path` with `contents` so that a reader (or a crash) sees either
 * the old file or the new one, never a mix: temp file (0600) in the same
 * directory, fsync, rename, fsync of the directory.
 */
export async function writeFileDurably(path: string, contents: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${tempPrefix(path)}${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
  const file = await open(temp, "wx", 0o600);
  try {
    await file.writeFile(contents, "utf8");
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
  // Opened before the rename, so running out of file descriptors fails the
  // write while the old file is still in place.
  let directory;
  try {
    directory = await open(dir, "r");
    await rename(temp, path);
  } catch (error) {
    await directory?.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Removes temp files a crash in `writeFileDurably(path, …)` left behind. */
export async function removeTempFiles(path: string): Promise<void> {
  const prefix = tempPrefix(path);
  const names = await readdir(dirname(path));
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX))
      .map((name) => unlink(join(dirname(path), name)).catch(() => undefined)),
  );
}

function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}
