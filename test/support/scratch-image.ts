import { execFile } from "node:child_process";
import { cp, mkdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import type { BuildStep, Dockerfile } from "./dockerfile.js";

const run = promisify(execFile);

/** Where a stage's filesystem lives on this machine, and the state its steps left. */
export interface ScratchStage {
  name: string;
  /** The directory standing for the stage's `/`. */
  root: string;
  /** The host directory of its WORKDIR. */
  workdir: string;
  /** Its ENV, absolute paths mapped under `root`. */
  env: Record<string, string>;
  user?: { uid: number; gid: number };
}

export interface ScratchBuildOptions {
  /** The build context: the repository. */
  context: string;
  /** Whether the context's .dockerignore lets a path in. */
  contextAllows: (path: string) => boolean;
  /** An empty directory; each stage gets `<scratch>/<stage name>` as its `/`. */
  scratch: string;
  /** The host's npm cache, standing for every RUN's cache mount. */
  npmCache: string;
  /** Bounds each RUN. */
  runTimeoutMs: number;
}

const asRoot = process.getuid?.() === 0;

/**
 * Runs every stage's steps with the host's node and npm in place of the base
 * image: COPY copies as Docker does (a directory's contents), RUN runs in the
 * stage's WORKDIR with its ENV, a cache mount is the host's npm cache. Paths
 * in the image map under the stage's root; an ENV value that is an absolute
 * path is mapped the same way, so a step or the server finds it there.
 * Returns the stages in order; the last one is the image.
 */
export async function buildInScratch(dockerfile: Dockerfile, options: ScratchBuildOptions): Promise<ScratchStage[]> {
  const built: ScratchStage[] = [];
  for (const { name, steps } of dockerfile.stages) {
    const stage: ScratchStage = { name, root: join(options.scratch, name), workdir: join(options.scratch, name), env: {} };
    await mkdir(stage.root, { recursive: true, mode: 0o755 });
    for (const step of steps) await apply(step, stage, built, options);
    built.push(stage);
  }
  return built;
}

async function apply(step: BuildStep, stage: ScratchStage, built: ScratchStage[], options: ScratchBuildOptions): Promise<void> {
  const inStage = (path: string) => (path.startsWith("/") ? join(stage.root, path) : join(stage.workdir, path));
  switch (step.kind) {
    case "WORKDIR":
      stage.workdir = join(stage.root, step.path);
      await mkdir(stage.workdir, { recursive: true });
      return;
    case "ENV":
      for (const [name, value] of Object.entries(step.values)) stage.env[name] = value.startsWith("/") ? join(stage.root, value) : value;
      return;
    case "USER":
      stage.user = { uid: step.uid, gid: step.gid };
      return;
    case "RUN": {
      const cache = step.cacheTarget === undefined ? {} : { npm_config_cache: options.npmCache };
      await run("sh", ["-c", step.command], {
        cwd: stage.workdir,
        timeout: options.runTimeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        // Offline first: the cache mount usually holds every package already.
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...stage.env, ...cache, npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
      });
      return;
    }
    case "COPY": {
      const from = step.from === undefined ? undefined : built.find((earlier) => earlier.name === step.from)!;
      const destination = inStage(step.destination);
      for (const source of step.sources) {
        if (from === undefined && !options.contextAllows(source)) throw new Error(`COPY ${source}: .dockerignore keeps it out of the context`);
        const sourcePath = from === undefined ? join(options.context, source) : join(from.root, source);
        const isDirectory = (await stat(sourcePath)).isDirectory();
        const target = isDirectory || (!step.destination.endsWith("/") && step.sources.length === 1) ? destination : join(destination, basename(source));
        await cp(sourcePath, target, { recursive: true });
        // Without root nothing can be given away; the files are then the test user's already.
        if (step.chown !== undefined && asRoot) await run("chown", ["-R", `${step.chown.uid}:${step.chown.gid}`, target]);
      }
      return;
    }
  }
}
