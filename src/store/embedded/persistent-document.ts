import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { UnavailableError } from "../../errors.js";
import { writeFileDurably } from "./durable-file.js";

/**
 * An in-memory JSON document mirrored to one file. Changes are serialized;
 * each is applied to a copy, written durably, and only then becomes the
 * state readers see, so a failed write leaves memory and file unchanged.
 */
export class PersistentDocument<State extends object> {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private state: State,
  ) {}

  static async open<State extends object>(path: string, empty: () => State): Promise<PersistentDocument<State>> {
    const text = await readExisting(path);
    const state = text === undefined ? empty() : { ...empty(), ...(JSON.parse(text) as State) };
    return new PersistentDocument(path, state);
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
      const draft = structuredClone(this.state);
      const outcome = change(draft);
      if (outcome instanceof Unchanged) return outcome.result;
      const result = outcome;
      try {
        await writeFileDurably(this.path, JSON.stringify(draft));
      } catch (error) {
        throw new UnavailableError(`embedded store could not persist the change (${describe(error)})`, { cause: error });
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
}

export class Unchanged<Result> {
  constructor(readonly result: Result) {}
}

export function unchanged<Result>(result: Result): Unchanged<Result> {
  return new Unchanged(result);
}

async function readExisting(path: string): Promise<string | undefined> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? "write failed";
}
