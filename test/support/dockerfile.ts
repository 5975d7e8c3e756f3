/**
 * A small, strict reader of the Dockerfile forms this repository uses, so a
 * test can run the image's own steps (test/deploy/image.test.ts). Anything
 * else is refused by line number: a new form in the Dockerfile needs its
 * meaning here too, or the test and the image would drift apart.
 */

export type BuildStep =
  | { kind: "WORKDIR"; path: string }
  | { kind: "COPY"; from?: string; chown?: { uid: number; gid: number }; sources: string[]; destination: string }
  | { kind: "RUN"; cacheTarget?: string; command: string }
  | { kind: "ENV"; values: Record<string, string> }
  | { kind: "USER"; uid: number; gid: number };

export interface Stage {
  name: string;
  image: string;
  steps: BuildStep[];
}

export interface Healthcheck {
  options: Record<string, string>;
  command: string[];
}

/** The stages in order, and what the last one declares for running the image. */
export interface Dockerfile {
  stages: Stage[];
  volumes: string[];
  exposedPorts: number[];
  stopSignal?: string;
  healthcheck?: Healthcheck;
  cmd?: string[];
}

export function parseDockerfile(text: string): Dockerfile {
  const result: Dockerfile = { stages: [], volumes: [], exposedPorts: [] };
  for (const { line, number } of logicalLines(text)) {
    const fail = (why: string): never => {
      throw new Error(`Dockerfile line ${number}: ${why}: ${line}`);
    };
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const stage = result.stages.at(-1);
    if (keyword === "FROM") {
      const match = /^(\S+) AS ([a-z][a-z0-9-]*)$/.exec(rest) ?? fail("expected FROM <image> AS <name>");
      result.stages.push({ image: match[1]!, name: match[2]!, steps: [] });
      continue;
    }
    if (stage === undefined) fail("an instruction before the first FROM");
    const steps = stage!.steps;
    switch (keyword) {
      case "WORKDIR":
        steps.push({ kind: "WORKDIR", path: absolute(rest, fail) });
        break;
      case "COPY": {
        const words = rest.split(/\s+/);
        let from: string | undefined;
        let chown: { uid: number; gid: number } | undefined;
        while (words[0]?.startsWith("--")) {
          const flag = words.shift()!;
          const fromMatch = /^--from=([a-z][a-z0-9-]*)$/.exec(flag);
          const chownMatch = /^--chown=(\d+):(\d+)$/.exec(flag);
          if (fromMatch) from = fromMatch[1];
          else if (chownMatch) chown = { uid: Number(chownMatch[1]), gid: Number(chownMatch[2]) };
          else fail("COPY takes only --from=<stage> and --chown=<uid>:<gid> (numeric)");
        }
        if (words.length < 2) fail("COPY needs a source and a destination");
        if (from !== undefined && !result.stages.some((earlier) => earlier.name === from)) fail(`no earlier stage ${from}`);
        const destination = words.pop()!;
        steps.push({ kind: "COPY", from, chown, sources: words, destination });
        break;
      }
      case "RUN": {
        const match = /^(?:--mount=type=cache,target=(\/\S+)\s+)?([^-].*)$/.exec(rest) ?? fail("RUN takes only --mount=type=cache,target=<path>");
        steps.push({ kind: "RUN", cacheTarget: match[1], command: match[2]! });
        break;
      }
      case "ENV": {
        const values: Record<string, string> = {};
        for (const pair of rest.split(/\s+/)) {
          const match = /^([A-Z_][A-Z0-9_]*)=([^\s"'$]+)$/.exec(pair) ?? fail("ENV takes NAME=value pairs, values without quotes or variables");
          values[match[1]!] = match[2]!;
        }
        steps.push({ kind: "ENV", values });
        break;
      }
      case "USER": {
        const match = /^(\d+):(\d+)$/.exec(rest) ?? fail("USER must be a numeric <uid>:<gid>");
        steps.push({ kind: "USER", uid: Number(match[1]), gid: Number(match[2]) });
        break;
      }
      case "VOLUME":
        result.volumes.push(...execForm(rest, fail));
        break;
      case "EXPOSE":
        result.exposedPorts.push(Number(/^(\d+)$/.exec(rest)?.[1] ?? fail("EXPOSE takes one port number")));
        break;
      case "STOPSIGNAL":
        result.stopSignal = /^(SIG[A-Z]+)$/.exec(rest)?.[1] ?? fail("STOPSIGNAL takes a signal name");
        break;
      case "HEALTHCHECK": {
        const options: Record<string, string> = {};
        let remaining = rest;
        for (let option = /^--([a-z-]+)=(\S+)\s+/.exec(remaining); option; option = /^--([a-z-]+)=(\S+)\s+/.exec(remaining)) {
          options[option[1]!] = option[2]!;
          remaining = remaining.slice(option[0].length);
        }
        if (!remaining.startsWith("CMD ")) fail("HEALTHCHECK must end in CMD [exec form]");
        result.healthcheck = { options, command: execForm(remaining.slice("CMD ".length), fail) };
        break;
      }
      case "CMD":
        result.cmd = execForm(rest, fail);
        break;
      default:
        fail(`instruction ${keyword} is not one this parser reads`);
    }
  }
  if (result.stages.length === 0) throw new Error("Dockerfile has no FROM");
  return result;
}

/** Lines with comments and blank lines dropped and `\` continuations joined, each with its first line's number. */
function logicalLines(text: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let pending: { line: string; number: number } | undefined;
  text.split("\n").forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === "" || trimmed.startsWith("#"))) return;
    const continued = trimmed.endsWith("\\");
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === undefined ? { line: part, number: index + 1 } : { line: `${pending.line} ${part}`, number: pending.number };
    if (!continued) {
      lines.push(pending);
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`Dockerfile line ${pending.number}: ends in a continuation`);
  return lines;
}

function execForm(text: string, fail: (why: string) => never): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail("expected the exec form, a JSON array of strings");
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((item) => typeof item === "string")) fail("expected a JSON array of strings");
  return parsed as string[];
}

function absolute(path: string, fail: (why: string) => never): string {
  return path.startsWith("/") && !/\s/.test(path) ? path : fail("expected an absolute path");
}

/**
 * Reads a .dockerignore written as an allow-list (`*`, then `!<path>` for
 * each file or directory let in); whether a context path gets in.
 */
export function dockerignoreAllows(text: string): (path: string) => boolean {
  const lines = text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  if (lines[0] !== "*" || lines.slice(1).some((line) => !/^![\w./-]+$/.test(line))) {
    throw new Error(".dockerignore must be an allow-list: `*`, then `!<path>` lines only");
  }
  const allowed = lines.slice(1).map((line) => line.slice(1).replace(/\/$/, ""));
  return (path) => {
    const normal = path.replace(/^\.\//, "").replace(/\/$/, "");
    return allowed.some((entry) => normal === entry || normal.startsWith(`${entry}/`));
  };
}
