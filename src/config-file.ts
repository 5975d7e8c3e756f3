import { readFileSync } from "node:fs";
import type { JwtFileConfig } from "./credentials/jwt/issuer-config.js";
import type { EnvoySettingsFile } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
import type { PolicyConfig } from "./policy/policy.js";
import { parseYamlQuietly } from "./config-values.js";

/** The configuration file's shape (YAML or JSON), snake_case as written. */
export interface ConfigFile {
  listen?: string;
  http?: {
    max_concurrent_streams?: number;
    request_read_timeout_ms?: number;
    request_buffer_max_bytes?: number;
    request_buffer_max_bytes_per_connection?: number;
  };
  data_dir?: string;
  data_dir_lock_stale_ms?: number;
  redis?: {
    url?: string;
    username?: string;
    password?: string;
    prefix?: string;
    dcr_prefix?: string;
    command_timeout_ms?: number;
  };
  token_pepper?: string;
  root_tokens?: { token: string; name?: string }[];
  token_file?: string;
  policy?: PolicyConfig;
  jwt?: JwtFileConfig;
  dev_allow_all?: boolean;
  log_level?: string;
  last_used_interval_ms?: number;
  shutdown_grace_ms?: number;
  dcr?: {
    stale_after_s?: number;
    encryption_key?: string;
    lease_ttl_ms?: number;
    await_max_ms?: number;
    await_poll_ms?: number;
  };
  oauth?: {
    state_ttl_ms?: number;
    http_timeout_ms?: number;
    http_max_bytes?: number;
    discovery_cache_ms?: number;
    id_token_leeway_s?: number;
  };
  envoy?: EnvoySettingsFile;
  protected_resource?: unknown;
  metrics?: { enabled?: boolean };
}

/** The file named by PORTCULLIS_CONFIG; an empty file is an empty mapping. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  const parsed = parseYamlQuietly(text, "PORTCULLIS_CONFIG", path);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `${path} must hold a mapping`);
  }
  return parsed as ConfigFile;
}
