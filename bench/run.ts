/**
 * `npm run bench`: every scenario of issue 12 against a raw node:http2
 * no-op measured in the same run, each server in its own process, load from
 * a separate process. Prints a table and writes bench/results.json;
 * BENCHMARKS.md explains every figure. Nothing here asserts a speed.
 *
 *   npm run bench [-- --quick] [--generator auto|h2load|node-load-client]
 *                 [--scenarios a,b] [--cpu-prof <scenario>] [--write-markdown]
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createClients } from "../test/support/clients.js";
import { JWT_AUDIENCE } from "../test/support/jwt-fixture.js";
import { startOwnRedis } from "../test/support/redis-server.js";
import { killSpawned } from "../test/support/spawned-processes.js";
import { benchConfig, mintOpaque, mintTeamJwt, startBenchIdp } from "./bench-credentials.js";
import { redisServerVersion, startPortcullis, startRawNoOp, type ServerUnderTest } from "./bench-servers.js";
import { formatSelfTime, topSelfTime, type CpuProfile } from "./cpu-profile.js";
import { compileScript } from "./compiled-script.js";
import { h2loadInstalled, h2loadVersion, runLoad, type GeneratorName, type LoadFiles, type LoadShape } from "./load-generator.js";
import { cpuSeconds, memoryStatus, resetPeakRss } from "./proc-stats.js";
import { commandsDelta, readCommandstats } from "./redis-commandstats.js";
import { measureInProcess } from "./in-process.js";
import { measureRevocations } from "./revocation.js";
import { measureDistinctTokensMemory } from "./distinct-tokens-memory.js";
import { cacheSettings } from "../src/credentials/cache/cache-settings.js";
import { benchmarksSection, distinctTokensLine, inProcessLines, replaceGeneratedSection, resultsTable, revocationTable } from "./results-markdown.js";
import { GENERATOR_SATURATED, SCENARIO_NAMES, withRatios, type BenchResults, type DistinctTokensMemory, type LatencyAtRate, type Measurement, type ScenarioName } from "./results.js";
import { benchScenarios, rawNoOpScenario, unknownTokenTarget, type Host, type Scenario, type ScenarioCredentials } from "./scenarios.js";
import { countsDelta, decisionCounts, unexpectedDecisions } from "./server-decisions.js";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    generator: { type: "string", default: "auto" },
    scenarios: { type: "string" },
    "cpu-prof": { type: "string" },
    "write-markdown": { type: "boolean", default: false },
    out: { type: "string", default: "bench/results.json" },
  },
});

interface Settings {
  clients: number;
  streams: number;
  /** One of the two: the throughput run's length, or its count of requests. */
  throughput_seconds?: number;
  throughput_requests?: number;
  warmup_requests: number;
  latency_seconds: number;
  rates: number[];
  /** The memory step: distinct unknown tokens sent, by this many load clients at once, for at most this long. */
  distinct_tokens: number;
  distinct_tokens_load_clients: number;
  distinct_tokens_max_seconds: number;
  /** Of each kind. */
  revocations: number;
  /** Per batch, of the measured operation and of its baseline alike; the median batch counts. */
  in_process_iterations: number;
  in_process_batches: number;
}

/** Quick: CI and development (under a minute); full: the run BENCHMARKS.md records (bounded: about 15 minutes at most). */
const SETTINGS: Settings = args.quick
  ? // Counts rather than durations: on a crowded CI machine a one-second run may complete no request at all.
    {
      clients: 4,
      streams: 64,
      throughput_requests: 4000,
      warmup_requests: 1000,
      latency_seconds: 1,
      rates: [1000, 5000],
      distinct_tokens: 20_000,
      distinct_tokens_load_clients: 2,
      distinct_tokens_max_seconds: 10,
      revocations: 20,
      in_process_iterations: 1000,
      in_process_batches: 5,
    }
  : {
      clients: 4,
      streams: 64,
      throughput_seconds: 10,
      warmup_requests: 20_000,
      latency_seconds: 10,
      rates: [1000, 5000],
      distinct_tokens: 1_000_000,
      distinct_tokens_load_clients: 2,
      distinct_tokens_max_seconds: 360,
      revocations: 200,
      in_process_iterations: 5000,
      in_process_batches: 9,
    };

interface HostProcess extends ServerUnderTest {
  /** Decision metrics and the Redis it uses, when it is a Portcullis server. */
  portcullis: boolean;
  redis?: Redis;
}

async function main(): Promise<void> {
  const started = performance.now();
  await rm(args.out!, { force: true });
  const fixedGenerator = chooseGenerator(args.generator!);
  const profiled = args["cpu-prof"];
  const selected = selectScenarios(profiled);
  const workDir = await mkdtemp(join(os.tmpdir(), "portcullis-bench-"));
  const profileDir = join(workDir, "cpu-profiles");
  const machine = describeMachine();
  const hosts: Partial<Record<Host, HostProcess>> = {};
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const redis = await startOwnRedis();
    stops.push(() => redis.dispose());
    const { idp, publicJwk, signRs256 } = await startBenchIdp();
    stops.push(() => idp.stop());
    const rootToken = randomBytes(32).toString("base64url");
    const common = { redisPrefix: "{portcullis-bench}:", rootToken, config: benchConfig(idp), workDir };
    const scenarios = benchScenarios().filter((scenario) => selected.includes(scenario.name as ScenarioName));
    const profileHost = scenarios.find((scenario) => scenario.name === profiled)?.host;
    const nodeArgs = (host: Host) => (host === profileHost ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
    const [raw, redisServer, embedded] = await Promise.all([
      startRawNoOp(workDir),
      startPortcullis({ ...common, name: "redis", redisUrl: redis.url, nodeArgs: nodeArgs("redis") }),
      startPortcullis({ ...common, name: "embedded", nodeArgs: nodeArgs("embedded") }),
    ]);
    const commandClient = new Redis(redis.url);
    stops.unshift(() => raw.stop(), () => redisServer.stop(), () => embedded.stop(), async () => commandClient.disconnect());
    hosts.raw = { ...raw, portcullis: false };
    hosts.redis = { ...redisServer, portcullis: true, redis: commandClient };
    hosts.embedded = { ...embedded, portcullis: true };

    console.log(`servers up after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const credentials = {
      redisOpaque: (await mintOpaque(createClients(redisServer.url).admin, rootToken, "bench")).token,
      embeddedOpaque: (await mintOpaque(createClients(embedded.url).admin, rootToken, "bench")).token,
      // Outlives the longest full run.
      rs256: await signRs256(24 * 3600),
      teamJwt: await mintTeamJwt(redisServer.url, rootToken),
    };
    const generatorOf = (scenario: Scenario): GeneratorName => (scenario.perRequestBodies ? "node-load-client" : fixedGenerator);
    const baselineGenerators = [...new Set([fixedGenerator, ...scenarios.map(generatorOf)])];
    console.log(`generators: fixed bodies: ${generatorLabel(fixedGenerator)}; a body per request: ${generatorLabel("node-load-client")}`);
    console.log(`${args.quick ? "quick" : "full"} run: ${JSON.stringify(SETTINGS)}`);

    const files = { workDir, loadClient: await compileScript("bench/load-client.ts", workDir) };
    const baselines: Record<string, Measurement> = {};
    for (const generator of baselineGenerators) {
      baselines[generator] = await measure(rawNoOpScenario(generator === "node-load-client"), hosts.raw, generator, files, credentials);
    }
    if (baselines.h2load && baselines["node-load-client"]) {
      const share = baselines["node-load-client"].rate / baselines.h2load.rate;
      console.log(`generator check: the node load client reaches ${share.toFixed(2)}× h2load's rate on the raw no-op; scenarios it drives are compared with its own raw no-op`);
    }
    const results: BenchResults["scenarios"] = {};
    /** When the profiled scenario's measured runs began and ended (µs of the monotonic clock). */
    const profileWindow = { fromUs: 0, toUs: Infinity };
    for (const scenario of scenarios) {
      const generator = generatorOf(scenario);
      const measurement = await measure(scenario, hosts[scenario.host]!, generator, files, credentials, scenario.name === profiled ? profileWindow : undefined);
      results[scenario.name as ScenarioName] = withRatios(measurement, baselines[generator]!);
    }

    let revocation: BenchResults["revocation"] | undefined;
    let inProcess: BenchResults["in_process"] | undefined;
    let distinctTokens: BenchResults["distinct_tokens_memory"] | undefined;
    if (profiled === undefined) {
      distinctTokens = await measureDistinctTokens(hosts.redis, common.config, files);
      const replicaB = await startPortcullis({ ...common, name: "replica-b", redisUrl: redis.url });
      try {
        console.log(`revocation: ${SETTINGS.revocations} of each kind on replica A, polled on replica B`);
        revocation = await measureRevocations(redisServer.url, replicaB.url, rootToken, SETTINGS.revocations);
      } finally {
        await replicaB.stop();
      }
      console.log(`in-process: ${SETTINGS.in_process_batches} batches of ${SETTINGS.in_process_iterations} of each operation`);
      inProcess = await measureInProcess(
        benchConfig(idp),
        { token: credentials.rs256, publicJwk, issuer: idp.issuer, audience: JWT_AUDIENCE },
        { iterations_per_batch: SETTINGS.in_process_iterations, batches: SETTINGS.in_process_batches },
        workDir,
      );
    }

    // Stopping the servers writes the CPU profile.
    for (const stop of stops.splice(0)) await stop();
    const profile = profiled === undefined ? undefined : await summarizeProfile(profiled, profileDir, profileWindow);

    const output: BenchResults = {
      schema: 3,
      mode: args.quick ? "quick" : "full",
      generated_at: new Date().toISOString(),
      commit: commitDescription(),
      machine,
      generators: { fixed_body: generatorLabel(fixedGenerator), per_request_body: generatorLabel("node-load-client") },
      settings: { ...SETTINGS },
      baselines,
      scenarios: results,
      ...(revocation === undefined ? {} : { revocation }),
      ...(inProcess === undefined ? {} : { in_process: inProcess }),
      ...(distinctTokens === undefined ? {} : { distinct_tokens_memory: distinctTokens }),
      ...(profile === undefined ? {} : { profile }),
    };
    await writeFile(args.out!, `${JSON.stringify(output, null, 2)}\n`);
    console.log(`\n${resultsTable(output)}\n`);
    console.log(`${revocationTable(output)}\n`);
    console.log(inProcessLines(output));
    console.log(distinctTokensLine(output));
    if (args["write-markdown"]) await writeMarkdown(output);
    console.log(`wrote ${args.out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

function selectScenarios(profiled: string | undefined): readonly ScenarioName[] {
  const wanted = profiled !== undefined ? [profiled] : args.scenarios?.split(",").map((name) => name.trim());
  if (wanted === undefined) return SCENARIO_NAMES;
  const unknown = wanted.filter((name) => !(SCENARIO_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; the scenarios are ${SCENARIO_NAMES.join(", ")}`);
  return wanted as ScenarioName[];
}

function chooseGenerator(choice: string): GeneratorName {
  if (choice === "node-load-client") return choice;
  if (choice === "h2load" || choice === "auto") {
    if (h2loadInstalled()) return "h2load";
    if (choice === "h2load") throw new Error("h2load is not installed (Debian: apt-get install nghttp2-client)");
    console.log("h2load is not installed (Debian: apt-get install nghttp2-client); falling back to bench/load-client.ts");
    return "node-load-client";
  }
  throw new Error(`--generator is auto, h2load or node-load-client, not ${choice}`);
}

function generatorLabel(generator: GeneratorName): string {
  return generator === "h2load" ? (h2loadVersion() ?? "h2load") : `bench/load-client.ts (node ${process.version})`;
}

/** Warm-up (which also proves the scenario decides as it should), throughput run, then latency at each fixed rate. */
/** µs of the monotonic clock, which V8's profiler timestamps samples with. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function measure(
  scenario: Scenario,
  host: HostProcess,
  generator: GeneratorName,
  files: LoadFiles,
  credentials: ScenarioCredentials,
  measuredWindow?: { fromUs: number; toUs: number },
): Promise<Measurement> {
  const began = performance.now();
  const target = { ...scenario.target(credentials), url: host.url };
  const shape: LoadShape = { clients: SETTINGS.clients, streams: SETTINGS.streams };
  const decisions = async () => (host.portcullis ? decisionCounts(host.url) : undefined);
  const proveDecisions = (before: Awaited<ReturnType<typeof decisions>>, after: typeof before, requests: number, phase: string) => {
    if (before === undefined || after === undefined || scenario.allowShare === undefined) return undefined;
    const delta = countsDelta(before, after);
    const problem = unexpectedDecisions(delta, scenario.allowShare, Math.floor(requests * 0.99));
    if (problem !== undefined) throw new Error(`${scenario.name} (${phase}): ${problem}`);
    return delta;
  };

  const beforeWarmUp = await decisions();
  const warmUp = await runLoad(generator, target, { ...shape, requests: SETTINGS.warmup_requests }, files);
  proveDecisions(beforeWarmUp, await decisions(), warmUp.summary.done, "warm-up");

  if (measuredWindow) measuredWindow.fromUs = monotonicUs();
  const perScenarioPeak = resetPeakRss(host.pid);
  const decisionsBefore = await decisions();
  const commandsBefore = host.redis && (await readCommandstats(host.redis));
  const cpuBefore = cpuSeconds(host.pid);
  const wallBefore = performance.now();
  const throughputShape: LoadShape = { ...shape, seconds: SETTINGS.throughput_seconds, requests: SETTINGS.throughput_requests };
  const throughput = await runLoad(generator, target, throughputShape, files);
  const cpu = cpuSeconds(host.pid) - cpuBefore;
  const wall = (performance.now() - wallBefore) / 1000;
  const memory = memoryStatus(host.pid);
  const commandsAfter = host.redis && (await readCommandstats(host.redis));
  const decided = proveDecisions(decisionsBefore, await decisions(), throughput.summary.done, "throughput");
  const done = throughput.summary.done;
  const commands = commandsBefore && commandsAfter ? commandsDelta(commandsBefore, commandsAfter) : null;
  const totalCommands = commands === null ? null : Object.values(commands).reduce((sum, calls) => sum + calls, 0);

  const latency: Record<string, LatencyAtRate> = {};
  for (const rate of SETTINGS.rates) {
    // A count (the rate times the run's length): the run lasts as long as the server needs to answer them all.
    const run = await runLoad(generator, target, { ...shape, rate, requests: rate * SETTINGS.latency_seconds }, files);
    const summary = run.latency!;
    latency[String(rate)] = {
      target_rate: rate,
      achieved_rate: summary.achievedRate,
      requests: summary.count,
      p50_ms: summary.p50Ms,
      p99_ms: summary.p99Ms,
      p999_ms: summary.p999Ms,
      max_ms: summary.maxMs,
    };
  }
  if (measuredWindow) measuredWindow.toUs = monotonicUs();
  const measurement: Measurement = {
    description: scenario.description,
    generator: generatorLabel(generator),
    requests: done,
    seconds: throughput.summary.seconds,
    rate: throughput.summary.rate,
    generator_cores: throughput.generatorCores,
    generator_saturated: throughput.generatorCores >= GENERATOR_SATURATED,
    server_cores: cpu / wall,
    cpu_seconds_per_10k: (cpu / done) * 10_000,
    peak_rss_bytes: memory.peakRssBytes,
    rss_after_bytes: memory.rssBytes,
    peak_rss_per_scenario: perScenarioPeak,
    redis_commands_per_decision: totalCommands === null ? null : totalCommands / done,
    redis_commands: commands === null ? null : Object.fromEntries(Object.entries(commands).map(([command, calls]) => [command, calls / done])),
    decisions: decided ?? null,
    latency,
  };
  const latencyText = SETTINGS.rates.map((rate) => `p99 @${rate}/s ${latency[String(rate)]!.p99_ms.toFixed(2)} ms`).join(", ");
  console.log(
    `${scenario.name}: ${Math.round(measurement.rate)} req/s, ${latencyText}, server ${measurement.server_cores.toFixed(2)} cores, generator ${measurement.generator_cores.toFixed(2)} cores (${((performance.now() - began) / 1000).toFixed(1)} s)`,
  );
  if (measurement.generator_saturated) {
    console.warn(`warning: ${scenario.name}: the generator used ${measurement.generator_cores.toFixed(2)} cores; it may have been the bottleneck`);
  }
  return measurement;
}

/** The memory step on the Redis-backed server, with the negative cache's bound as the server reads it from the same configuration. */
async function measureDistinctTokens(host: HostProcess, config: object, files: LoadFiles): Promise<DistinctTokensMemory> {
  const cache = cacheSettings((config as { cache?: Parameters<typeof cacheSettings>[0] }).cache);
  console.log(
    `distinct tokens: ${SETTINGS.distinct_tokens.toLocaleString("en-US")} unknown tokens from ${SETTINGS.distinct_tokens_load_clients} load clients (at most ${SETTINGS.distinct_tokens_max_seconds} s), RSS of the Redis-backed server sampled`,
  );
  return measureDistinctTokensMemory(
    host,
    { ...unknownTokenTarget(), url: host.url },
    { maxEntries: cache.negativeMaxEntries, ttlMs: cache.negativeTtlMs },
    {
      tokens: SETTINGS.distinct_tokens,
      maxSeconds: SETTINGS.distinct_tokens_max_seconds,
      loadClients: SETTINGS.distinct_tokens_load_clients,
      clients: SETTINGS.clients,
      streams: SETTINGS.streams,
    },
    files,
  );
}

async function summarizeProfile(scenario: string, profileDir: string, window: { fromUs: number; toUs: number }): Promise<BenchResults["profile"]> {
  // Loader threads write small profiles of their own: the server's main thread is the largest.
  const files = await Promise.all((await readdir(profileDir)).map(async (name) => ({ name, size: (await stat(join(profileDir, name))).size })));
  const main = files.sort((a, b) => b.size - a.size)[0];
  if (main === undefined) throw new Error("the profiled server wrote no .cpuprofile");
  await mkdir("bench/profiles", { recursive: true });
  const file = `bench/profiles/${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`;
  await copyFile(join(profileDir, main.name), file);
  // Only the measured runs: the server's start-up and the warm-up would crowd the top.
  const top = topSelfTime(JSON.parse(await readFile(file, "utf8")) as CpuProfile, { top: 20, window, root: pathToFileURL(".").href + "/" });
  console.log(`\nCPU profile of the server during ${scenario}'s measured runs (${file}; open in Chrome DevTools or speedscope), top self time:\n${formatSelfTime(top)}`);
  return { scenario, file, top: top.map((row) => ({ frame: row.frame, self_ms: row.selfMs, share: row.share })) };
}

async function writeMarkdown(results: BenchResults): Promise<void> {
  const document = await readFile("BENCHMARKS.md", "utf8");
  await writeFile("BENCHMARKS.md", replaceGeneratedSection(document, benchmarksSection(results)));
  await writeFile("bench/published-results.json", `${JSON.stringify(results, null, 2)}\n`);
  console.log("updated BENCHMARKS.md and bench/published-results.json");
}

function describeMachine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    ...(cpus[0]?.speed ? { mhz: cpus[0].speed } : {}),
    memory_gib: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: redisServerVersion() ?? "not installed",
    load_average_at_start: os.loadavg().map((load) => load.toFixed(2)).join(" "),
  };
}

function commitDescription(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

process.on("exit", killSpawned);
process.on("SIGINT", () => process.exit(130));
// Explicit exits: an idle HTTP/2 session of a client must not keep a finished run waiting.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
