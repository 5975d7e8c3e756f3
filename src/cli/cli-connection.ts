import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { readFileSync } from "node:fs";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";
import { ADMIN_CLI_VARIABLES } from "./admin-cli-variables.js";
import { InputError, UsageError, type AdminClients } from "./cli-command.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";
export const DEFAULT_TOKEN_FILE = "./data/root.token";

/** Where the server is and how to reach it: each from its option, else its variable. */
export interface ConnectionOptions {
  url?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The gRPC clients over one HTTP/2 connection, TLS when the URL is https:// (optionally with a client certificate). */
export function createAdminClients(options: ConnectionOptions, env: NodeJS.ProcessEnv): AdminClients {
  const url = options.url ?? env[ADMIN_CLI_VARIABLES.url] ?? DEFAULT_URL;
  const files = {
    "--ca-file": options.caFile ?? env[ADMIN_CLI_VARIABLES.caFile],
    "--cert-file": options.certFile ?? env[ADMIN_CLI_VARIABLES.certFile],
    "--key-file": options.keyFile ?? env[ADMIN_CLI_VARIABLES.keyFile],
  };
  const protocol = /^(https?):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (protocol === undefined) throw new UsageError(`--url: expected an http:// or https:// URL, got "${url}"`);
  const given = Object.entries(files).filter(([, path]) => path !== undefined && path !== "");
  if (protocol === "http" && given.length > 0) throw new UsageError(`${given[0]![0]} needs an https:// URL (the server is ${url})`);
  if ((files["--cert-file"] ? 1 : 0) + (files["--key-file"] ? 1 : 0) === 1) {
    throw new UsageError("--cert-file and --key-file go together (a client certificate and its private key)");
  }
  const read = (option: keyof typeof files) => {
    const path = files[option];
    return path ? readLocalFile(option, path) : undefined;
  };
  // Without --ca-file Node trusts its built-in roots (and NODE_EXTRA_CA_CERTS).
  const transport = createGrpcTransport({
    baseUrl: url,
    nodeOptions: protocol === "https" ? { ca: read("--ca-file"), cert: read("--cert-file"), key: read("--key-file") } : {},
  });
  return {
    admin: createClient(TokenAdminService, transport),
    dcr: createClient(DcrService, transport),
    owners: createClient(OwnerService, transport),
    upstreamTokens: createClient(UpstreamTokenService, transport),
    authorization: createClient(AuthorizationService, transport),
  };
}

/** The bearer to send: --token, else the variable, else the token file (the bootstrap root token by default). */
export function readToken(options: { token?: string; tokenFile?: string }, env: NodeJS.ProcessEnv): string {
  const given = options.token ?? env[ADMIN_CLI_VARIABLES.token];
  if (given !== undefined && given !== "") return given;
  const path = options.tokenFile ?? env[ADMIN_CLI_VARIABLES.tokenFile] ?? DEFAULT_TOKEN_FILE;
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new InputError(
      `no token: pass --token, set ${ADMIN_CLI_VARIABLES.token}, or point --token-file at a file (${path}: ${(error as NodeJS.ErrnoException).code})`,
    );
  }
}

/** A file the CLI was pointed at; a failure names the option and the errno code, never the content. */
export function readLocalFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputError(`${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
}
