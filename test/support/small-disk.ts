import { execFile } from "node:child_process";
import { mkdtemp, open, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const FILLER = "filler";

/** A file system of its own, small enough to fill up in a test. */
export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the file system answers ENOSPC. */
  fill(): Promise<void>;
  /** Deletes the filler. */
  free(): Promise<void>;
  /** Unmounts and removes the mount point. */
  dispose(): Promise<void>;
}

/**
 * Mounts a tmpfs of `bytes`. Mounting needs root with CAP_SYS_ADMIN (as in
 * CI's container); `smallDiskUnavailable` says beforehand whether it works.
 */
export async function mountSmallDisk(bytes: number): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), "portcullis-small-disk-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir]);
  } catch (error) {
    await rmdir(dir);
    throw error;
  }
  const filler = join(dir, FILLER);
  return {
    dir,
    async fill() {
      const file = await open(filler, "a");
      const chunk = Buffer.alloc(4096);
      try {
        for (;;) await file.write(chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        await file.close();
      }
    },
    free: () => rm(filler, { force: true }),
    async dispose() {
      // A process still holding a file there makes a plain unmount fail; detach it anyway.
      await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Why a small disk cannot be mounted here, or undefined when it can. */
export async function smallDiskUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  try {
    await (await mountSmallDisk(64 * 1024)).dispose();
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs: ${(error as Error).message.split("\n")[0]}`;
  }
}
