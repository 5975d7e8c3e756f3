import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { loadConfig, type Config } from "../../src/config.js";
import { configFileSchema } from "../../src/config/config-schema.js";
import { envSettings, type Env } from "../../src/config/env-settings.js";

/**
 * Checks deployment artefacts (Kubernetes manifests, compose files) against
 * the server's own configuration: every variable they set must be one the
 * server reads, and the configuration file plus those variables must pass
 * `loadConfig`, the loader `src/main.ts` starts with.
 */

const SETTINGS = envSettings(configFileSchema);

/** Every environment variable the server reads: its settings' and PORTCULLIS_CONFIG. */
export const SERVER_VARIABLES: readonly string[] = ["PORTCULLIS_CONFIG", ...SETTINGS.map((setting) => setting.name)];

/**
 * Stand-ins for values a deployment takes from a Secret or the operator's
 * environment, each of the shape its setting demands, so the loader checks
 * everything around them.
 */
export const SECRET_STAND_INS: Readonly<Record<string, string>> = {
  REDIS_PASSWORD: "stand-in-redis-password",
  PORTCULLIS_TOKEN_PEPPER: "stand-in-token-pepper-0123456789abcdef",
  PORTCULLIS_ROOT_TOKENS: "stand-in-root-token-0123456789abcdefghijklmnop",
  PORTCULLIS_DCR_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
};

/** Variables Node.js itself reads before the server starts (the deployment's heap limit). */
const NODE_RUNTIME_VARIABLES: readonly string[] = ["NODE_OPTIONS"];

export interface DeploymentSettings {
  /** The variables the artefact sets, secrets replaced by stand-ins. */
  env: Env;
  /** The text of the configuration file PORTCULLIS_CONFIG names, if any. */
  configFile?: string;
}

/**
 * Loads the artefact's settings with the server's loader; throws, naming
 * them, on variables the server does not know or on anything the loader
 * refuses or warns about as unknown.
 */
export function checkDeploymentSettings(settings: DeploymentSettings): Config {
  const env = settings.env;
  const unknown = Object.keys(env).filter((name) => !SERVER_VARIABLES.includes(name) && !NODE_RUNTIME_VARIABLES.includes(name));
  if (unknown.length > 0) throw new Error(`variables the server does not read: ${unknown.join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "portcullis-deploy-config-"));
  try {
    const configPath = join(dir, basename(env.PORTCULLIS_CONFIG ?? "portcullis.yaml"));
    if (settings.configFile !== undefined) writeFileSync(configPath, settings.configFile);
    const config = loadConfig({ ...env, ...(settings.configFile === undefined ? {} : { PORTCULLIS_CONFIG: configPath }) });
    const unknownWarnings = config.warnings.filter((warning) => warning.startsWith("unknown"));
    if (unknownWarnings.length > 0) throw new Error(unknownWarnings.join("; "));
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
