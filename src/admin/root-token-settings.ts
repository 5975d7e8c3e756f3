import { Type, type Static } from "@sinclair/typebox";
import { annotations, section, text } from "../settings-schema/schema-kit.js";

const MIN_ROOT_TOKEN_LENGTH = 32;

const rootTokenSchema = section(
  "A root token named in configuration (source SOURCE_CONFIG).",
  { name: text({ description: "name shown for the token", defaultText: "`config-root-<n>`" }) },
  {
    token: Type.String({
      minLength: MIN_ROOT_TOKEN_LENGTH,
      ...annotations({ description: "the token itself; keep it like a password" }, `must be a string of at least ${MIN_ROOT_TOKEN_LENGTH} characters`),
    }),
  },
);

export const rootTokensSchema = Type.Array(
  rootTokenSchema,
  annotations({
    env: "PORTCULLIS_ROOT_TOKENS",
    envFormat: "root-tokens",
    defaultText: "none: bootstrap token",
    description:
      "extra root tokens (at least 32 characters each); they may administer tokens and cannot be revoked through the API. The variable is comma-separated, its tokens named `env-root-<n>`; file and variable add up",
  }),
);

export interface RootTokenConfig {
  token: string;
  name: string;
}

export function rootTokens(file: Static<typeof rootTokensSchema> = []): RootTokenConfig[] {
  return file.map((entry, index) => ({ token: entry.token, name: entry.name ?? `config-root-${index + 1}` }));
}
