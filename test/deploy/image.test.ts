import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { REPO, runProgram } from "../support/admin-cli.js";
import { eventually } from "../support/eventually.js";
import { dockerignoreAllows, parseDockerfile, type Dockerfile } from "../support/dockerfile.js";
import { closedPort } from "../support/probe-targets.js";
import { buildInScratch, type ScratchStage } from "../support/scratch-image.js";
import { tracked } from "../support/spawned-processes.js";

/**
 * The Dockerfile's own steps, parsed from it and run in a scratch directory
 * with the host's node and npm (no Docker engine or registry here): npm ci and
 * tsc in the build stage, a production install and the compiled server in
 * the runtime stage, which then runs as the image's unprivileged user. Slow
 * (two npm installs from the shared npm cache), so bounded as a whole.
 */
const BUILD_TIMEOUT_MS = 300_000;
const asRoot = process.getuid?.() === 0;
const execFileAsync = promisify(execFile);

let dockerfile: Dockerfile;
let image: ScratchStage;
let scratch: string;

/** The image's own start: its CMD in its WORKDIR as its USER (setpriv, all capabilities dropped, when the test runs as root). */
function command(args: readonly string[], user: { uid: number; gid: number }): [string, string[]] {
  if (!asRoot) return [args[0]!, args.slice(1)];
  const privileges = [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"];
  return ["setpriv", [...privileges, "--", ...args]];
}

function startImage(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [program, args] = command(dockerfile.cmd!, image.user!);
  const child = tracked(spawn(program, args, { cwd: image.workdir, env: { PATH: process.env.PATH ?? "", ...image.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The image's CLI (`dist/src/cli/portcullis-admin.js`), run as the image's user. */
function imageCli(args: readonly string[], env: Record<string, string>) {
  const [program, programArgs] = command(["node", join(image.workdir, "dist/src/cli/portcullis-admin.js"), ...args], image.user!);
  return runProgram(program, programArgs, { env });
}

describe("the image, built by the Dockerfile's own steps in a scratch directory", () => {
  beforeAll(async () => {
    dockerfile = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8"));
    scratch = await mkdtemp(join(tmpdir(), "portcullis-image-"));
    // The image's user must be able to walk into it, as into an image's layers.
    await chmod(scratch, 0o755);
    const stages = await buildInScratch(dockerfile, {
      context: REPO,
      contextAllows: dockerignoreAllows(readFileSync(join(REPO, ".dockerignore"), "utf8")),
      scratch,
      npmCache: (await execFileAsync("npm", ["config", "get", "cache"])).stdout.trim(),
      runTimeoutMs: BUILD_TIMEOUT_MS,
    });
    image = stages.at(-1)!;
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it("keeps the compiled server with its generated code and Lua scripts, and production dependencies only", () => {
    const app = image.workdir;
    expect(existsSync(join(app, "dist/src/main.js"))).toBe(true);
    expect(existsSync(join(app, "dist/gen/portcullis/v1/authorization_pb.js"))).toBe(true);
    expect(readdirSync(join(app, "dist/src/store/redis/lua"))).toEqual(readdirSync(join(REPO, "src/store/redis/lua")));
    expect(existsSync(join(app, "node_modules/ioredis"))).toBe(true);
    for (const devOnly of ["typescript", "vitest", "@bufbuild/buf", "@grpc/grpc-js-xds", "dependency-cruiser"]) expect(existsSync(join(app, "node_modules", devOnly))).toBe(false);
    // No sources, tests or build configuration: only what runs.
    expect(readdirSync(app).sort()).toEqual(["dist", "node_modules", "package-lock.json", "package.json"]);
  });

  it("declares a numeric non-root user, the data directory as a volume it owns, one port, SIGTERM and a health check on /healthz", () => {
    expect(image.user!.uid).toBeGreaterThan(0);
    expect(image.user!.gid).toBeGreaterThan(0);
    const dataDir = image.env.PORTCULLIS_DATA_DIR!;
    expect(dockerfile.volumes.map((volume) => join(image.root, volume))).toEqual([dataDir]);
    if (asRoot) {
      expect(statSync(dataDir).uid).toBe(image.user!.uid);
      // Everything else belongs to root and is writable by nobody else: the user can change nothing of the image.
      const writableByUser = readdirSync(image.root, { recursive: true, encoding: "utf8" })
        .map((path) => join(image.root, path))
        .filter((path) => path !== dataDir && !path.startsWith(`${dataDir}/`))
        .filter((path) => {
          const { uid, mode } = statSync(path);
          return uid !== 0 || (mode & 0o022) !== 0;
        });
      expect(writableByUser).toEqual([]);
    }
    expect(dockerfile.exposedPorts).toEqual([Number(image.env.PORTCULLIS_LISTEN!.split(":").pop())]);
    expect(image.env.PORTCULLIS_LISTEN).toBe("0.0.0.0:8080");
    expect(dockerfile.stopSignal).toBe("SIGTERM");
    expect(dockerfile.healthcheck!.command.join(" ")).toContain("/healthz");
  });

  it("refuses to start on 0.0.0.0 with the image's defaults alone, naming tls and allow_insecure", async () => {
    const refused = startImage({});
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/not a loopback address: configure tls .* or set allow_insecure: true/);
  });

  it("runs as the image's user with nothing writable but its data directory: probes, gRPC health, and a token minted and authorized through the image's CLI", async () => {
    const port = await closedPort();
    // Loopback instead of 0.0.0.0 (cleartext allowed without allow_insecure); everything else as the image sets it.
    const server = startImage({ PORTCULLIS_LISTEN: `127.0.0.1:${port}` });
    const url = `http://127.0.0.1:${port}`;
    try {
      let exitCode: number | null | undefined;
      void server.exited.then((code) => (exitCode = code));
      await eventually(async () => {
        if (exitCode !== undefined) throw new Error(`the image's server exited with ${exitCode}:\n${server.output()}`);
        return server.output().includes("portcullis listening");
      }, 30_000);

      const [healthcheck, healthcheckArgs] = command(dockerfile.healthcheck!.command, image.user!);
      const probe = await runProgram(healthcheck, healthcheckArgs, { env: { ...image.env, PORTCULLIS_LISTEN: `127.0.0.1:${port}` } });
      expect(probe.exitCode).toBe(0);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
      expect((await health.check({ service: "" })).status).toBe(Status.SERVING);

      const rootTokenFile = join(image.env.PORTCULLIS_DATA_DIR!, "root.token");
      if (asRoot) expect(statSync(rootTokenFile).uid).toBe(image.user!.uid);
      const cliEnv = { PORTCULLIS_URL: url, PORTCULLIS_ADMIN_TOKEN_FILE: rootTokenFile };
      const minted = await imageCli(["tokens", "mint", "--scope", "orders:read", "--name", "image-test"], cliEnv);
      expect(minted.stderr).toBe("");
      expect(minted.exitCode).toBe(0);
      const token = /pcl_[A-Za-z0-9_-]+/.exec(minted.stdout)![0];

      const allowed = await imageCli(["authorize", "GET /orders", "--required-scope", "orders:read"], { PORTCULLIS_URL: url, PORTCULLIS_ADMIN_TOKEN: token });
      expect(allowed.exitCode).toBe(0);
      expect(allowed.stdout).toMatch(/decision:\s+allow/);
      const denied = await imageCli(["authorize", "GET /orders", "--required-scope", "orders:write"], { PORTCULLIS_URL: url, PORTCULLIS_ADMIN_TOKEN: token });
      expect(denied.exitCode).toBe(2);
      expect(denied.stdout).toMatch(/reason:\s+insufficient_scope/);
    } finally {
      server.child.kill(dockerfile.stopSignal as NodeJS.Signals);
    }
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toMatch(/EACCES|EROFS/);
  });
});
