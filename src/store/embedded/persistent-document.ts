import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { FailedPreconditionError, UnavailableError } from "../../errors.js";
import { removeTempFiles, writeFileDurably } from "./durable-file.js";
import { isOutOfSpace, type SpaceReserve } from "./space-reserve.js";

export interface DocumentFormat<State> {
  empty(): State;
  /** Checks and completes a parsed file; throws with a message saying what is wrong. */
  from(parsed: unknown): State;
  /** The file's text for a state. */
  serialize(state: State): string;
}

/** Why readiness fails while the document cannot be written (the /readyz `reason`). */
const WRITE_FAILING = "store_write_failing";

export interface UpdateOptions {
  /** The change takes access away (a revocation): on a full disk it may spend the space reserve. */
  revocation?: boolean;
}

export const REVOCATION: UpdateOptions = { revocation: true };

/**
 * An in-memory JSON document mirrored to one file. Changes are serialized;
 * each is applied to a copy, written durably, and only then becomes the
 * state readers see, so a failed write leaves memory and file unchanged.
 *
 * A full disk must not leave a stolen token usable, so a space reserve (a
 * file of a few copies of the document, on the same file system) is held
 * for revocations. Ordinary changes are written only while the reserve is
 * whole: they make it again or grow it first and fail when they cannot, so
 * they never eat the space it guards. A revocation that meets a full disk
 * deletes the reserve and writes into the space it gave back. From a failed
 * write until a write succeeds with the reserve whole again, the document
 * reports itself failing (`checkWrites`).
 */
export class PersistentDocument<State extends object> {
  private queue: Promise<unknown> = Promise.resolve();
  /** Set once the document may no longer write: why every later change is refused. */
  private refusal?: string;
  /** Whether the last write worked with the reserve whole; "unproven" until one was tried. */
  private writes: "unproven" | "working" | "failing" = "unproven";
  /** A readiness check's trial write, shared by checks that come while it runs. */
  private trial?: Promise<void>;

  private constructor(
    private readonly path: string,
    private readonly format: DocumentFormat<State>,
    private state: State,
    private readonly reserve: SpaceReserve,
    private readonly onReserveSpent: () => void,
  ) {}

  /**
   * Reads the file, or starts empty when there is none, then takes the space
   * reserve. A file that does not parse stops the start instead of being
   * overwritten by an empty state; a disk too full for the reserve does
   * not: the document opens with its writes failing.
   */
  static async open<State extends object>(
    path: string,
    format: DocumentFormat<State>,
    reserve: SpaceReserve,
    onReserveSpent: () => void = () => undefined,
  ): Promise<PersistentDocument<State>> {
    const text = await readExisting(path);
    let state: State;
    try {
      state = text === undefined ? format.empty() : format.from(JSON.parse(text));
    } catch (error) {
      throw new FailedPreconditionError(`data file ${path} ${describeParseError(error)}; restore it from a backup or move it away`);
    }
    const document = new PersistentDocument(path, format, state, reserve, onReserveSpent);
    try {
      await reserve.ensure(Buffer.byteLength(text ?? ""));
    } catch (error) {
      if (!isOutOfSpace(error)) throw error;
      document.writes = "failing";
    }
    return document;
  }

  /** The current state; treat it as read-only. */
  get current(): Readonly<State> {
    return this.state;
  }

  /**
   * Runs `change` on a copy of the state, persists it, then publishes it.
   * A change that finds nothing to do returns `unchanged(result)` and
   * nothing is written.
   */
  update<Result>(change: (draft: State) => Result | Unchanged<Result>, options: UpdateOptions = {}): Promise<Result> {
    const run = this.queue.then(async () => {
      this.ensureWritable();
      const draft = structuredClone(this.state);
      const outcome = change(draft);
      if (outcome instanceof Unchanged) return outcome.result;
      try {
        await this.persist(this.format.serialize(draft), options.revocation === true);
      } catch (error) {
        // Only a failed directory fsync comes after the rename; the file is
        // then ahead of memory until the next write replaces it from memory.
        throw new UnavailableError("embedded store could not persist the change", {
          cause: error,
          detail: describe(error),
          reason: WRITE_FAILING,
        });
      }
      this.state = draft;
      return outcome;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves when writes work; throws UnavailableError (reason
   * `store_write_failing`) while they fail. Unless the last write worked,
   * it finds out by writing the current state once more: after a start
   * nothing may have written yet, and while readiness fails nothing may
   * come to write.
   */
  async checkWrites(): Promise<void> {
    this.ensureWritable();
    if (this.writes === "working") return;
    this.trial ??= this.update(() => undefined).finally(() => (this.trial = undefined));
    await this.trial;
  }

  private async persist(text: string, revocation: boolean): Promise<void> {
    try {
      if (!revocation) await this.reserve.ensure(Buffer.byteLength(text));
      await writeFileDurably(this.path, text);
    } catch (error) {
      this.writes = "failing";
      if (!revocation || !isOutOfSpace(error) || !this.reserve.held) throw error;
      await this.reserve.release();
      this.onReserveSpent();
      await writeFileDurably(this.path, text);
      return;
    }
    // Written with the reserve whole: the disk has room again.
    if (this.reserve.held) this.writes = "working";
  }

  /** Resolves once every change queued so far has settled. */
  async drain(): Promise<void> {
    await this.queue;
  }

  /**
   * Refuses every change that has not started yet with UnavailableError
   * saying `reason`; resolves once a write under way has settled.
   */
  async seal(reason: string): Promise<void> {
    this.refusal ??= reason;
    await this.drain();
  }

  /** Throws UnavailableError once the document is sealed. */
  private ensureWritable(): void {
    if (this.refusal !== undefined) throw new UnavailableError(this.refusal);
  }
}

export class Unchanged<Result> {
  constructor(readonly result: Result) {}
}

export function unchanged<Result>(result: Result): Unchanged<Result> {
  return new Unchanged(result);
}

async function readExisting(path: string): Promise<string | undefined> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Left by a write a crash interrupted; the file itself is whole either way.
  await removeTempFiles(path);
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function describeParseError(error: unknown): string {
  // A JSON.parse message quotes the file; keep file contents out of errors.
  return error instanceof SyntaxError ? "is not valid JSON" : (error as Error).message;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? "write failed";
}
