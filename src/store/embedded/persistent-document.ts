import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { FailedPreconditionError, UnavailableError } from "../../errors.js";
import { removeTempFiles, writeFileDurably } from "./durable-file.js";

export interface DocumentFormat<State> {
  empty(): State;
  /** Checks and completes a parsed file; throws with a message saying what is wrong. */
  from(parsed: unknown): State;
  /** The file's text for a state. */
  serialize(state: State): string;
}

/**
 * An in-memory JSON document mirrored to one file. Changes are serialized;
 * each is applied to a copy, written durably, and only then becomes the
 * state readers see, so a failed write leaves memory and file unchanged.
 */
export class PersistentDocument<State extends object> {
  private queue: Promise<unknown> = Promise.resolve();
  /** Set once the document may no longer write: why every later change is refused. */
  private refusal?: string;

  private constructor(
    private readonly path: string,
    private readonly format: DocumentFormat<State>,
    private state: State,
  ) {}

  /**
   * Reads the file, or starts empty when there is none. A file that does not
   * parse stops the start instead of being overwritten by an empty state.
   */
  static async open<State extends object>(path: string, format: DocumentFormat<State>): Promise<PersistentDocument<State>> {
    const text = await readExisting(path);
    if (text === undefined) return new PersistentDocument(path, format, format.empty());
    try {
      return new PersistentDocument(path, format, format.from(JSON.parse(text)));
    } catch (error) {
      throw new FailedPreconditionError(`data file ${path} ${describeParseError(error)}; restore it from a backup or move it away`);
    }
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
  update<Result>(change: (draft: State) => Result | Unchanged<Result>): Promise<Result> {
    const run = this.queue.then(async () => {
      this.ensureWritable();
      const draft = structuredClone(this.state);
      const outcome = change(draft);
      if (outcome instanceof Unchanged) return outcome.result;
      const result = outcome;
      try {
        await writeFileDurably(this.path, this.format.serialize(draft));
      } catch (error) {
        // Only a failed directory fsync comes after the rename; the file is
        // then ahead of memory until the next write replaces it from memory.
        throw new UnavailableError("embedded store could not persist the change", { cause: error, detail: describe(error) });
      }
      this.state = draft;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
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
  ensureWritable(): void {
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
