import { open, unlink } from "node:fs/promises";

/** Never smaller than this, so a small document still finds room for a few revocations. */
export const MIN_RESERVE_BYTES = 256 * 1024;
/** The reserve is grown once it holds fewer copies of the document than this… */
const MIN_COPIES = 2;
/** …and then to this many, so it is not grown on every write of a growing document. */
const GROWN_COPIES = 4;
const CHUNK = Buffer.alloc(64 * 1024);

/**
 * A file of zeros kept next to the data file, on the same file system, that
 * holds space for the writes that must not fail on a full disk. Its blocks
 * are written, not sparse, so they are really taken; deleting the file gives
 * them back at once. Any failure to create or grow it leaves no partial
 * blocks behind, so the space is never held by accident.
 */
export class SpaceReserve {
  /** Bytes the file holds; 0 while there is none. */
  private size = 0;

  constructor(private readonly path: string) {}

  get held(): boolean {
    return this.size > 0;
  }

  /**
   * Makes the reserve big enough for a document of `documentBytes`, creating
   * it when there is none. Throws the file system's error (ENOSPC on a full
   * disk) when the space is not there.
   */
  async ensure(documentBytes: number): Promise<void> {
    if (this.size >= Math.max(MIN_RESERVE_BYTES, MIN_COPIES * documentBytes)) return;
    const target = Math.max(MIN_RESERVE_BYTES, GROWN_COPIES * documentBytes);
    const creating = this.size === 0;
    const file = await open(this.path, creating ? "w" : "r+", 0o600);
    try {
      for (let at = this.size; at < target; at += CHUNK.length) {
        await file.write(CHUNK, 0, Math.min(CHUNK.length, target - at), at);
      }
      await file.sync();
    } catch (error) {
      // Handing back what was written, so a failed attempt holds no space.
      await file.truncate(this.size).catch(() => undefined);
      await file.close();
      if (creating) await unlink(this.path).catch(() => undefined);
      throw error;
    }
    await file.close();
    // No directory fsync: a reserve lost in a crash is made again at the next start.
    this.size = target;
  }

  /** Deletes the file, giving its space to the writes that follow. */
  async release(): Promise<void> {
    this.size = 0;
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }
}

/** True for the errors a full disk or an exhausted quota gives. */
export function isOutOfSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
