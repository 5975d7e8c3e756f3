/**
 * The top self-time functions of a V8 `.cpuprofile` (what `node --cpu-prof`
 * writes), to explain where a scenario's CPU goes. "(idle)" is time the
 * process waited (e.g. on Redis), "(garbage collector)" GC, "(program)"
 * native work outside JavaScript.
 */
export interface CpuProfile {
  /** Monotonic clock, µs: the clock of `process.hrtime` in any process of the machine. */
  startTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `function (file:line)`, the file relative to the repository or package. */
  frame: string;
  selfMs: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

export interface SelfTimeOptions {
  top?: number;
  /** Only samples taken in this span of the monotonic clock (µs), e.g. while the scenario ran, not the server's start-up. */
  window?: { fromUs: number; toUs: number };
  /** The repository as a file URL (with a trailing slash): stripped from frames' files. */
  root?: string;
}

export function topSelfTime(profile: CpuProfile, { top = 15, window, root = "" }: SelfTimeOptions = {}): SelfTime[] {
  const frameOf = new Map(profile.nodes.map((node) => [node.id, describe(node.callFrame, root)]));
  const byFrame = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  // A sample's duration is the delta to the next sample (how DevTools counts it).
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
    const micros = profile.timeDeltas[i + 1] ?? 0;
    const frame = frameOf.get(profile.samples[i]!) ?? "(unknown)";
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + micros);
    total += micros;
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, micros]) => ({ frame, selfMs: micros / 1000, share: total > 0 ? micros / total : 0 }));
}

function describe({ functionName, url, lineNumber }: CpuProfile["nodes"][number]["callFrame"], root: string): string {
  const name = functionName === "" ? "(anonymous)" : functionName;
  if (url === "") return name;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  const file = packageMatch ? `${packageMatch[1]}/${packageMatch[2]}` : root !== "" && url.startsWith(root) ? url.slice(root.length) : url;
  return `${name} (${file}:${lineNumber + 1})`;
}

export function formatSelfTime(rows: readonly SelfTime[]): string {
  return rows.map((row) => `${(row.share * 100).toFixed(1).padStart(5)}%  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.frame}`).join("\n");
}
