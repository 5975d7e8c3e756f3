import {
  CreateSigningKeyResponseSchema,
  ListSigningKeysResponseSchema,
  RetireSigningKeyResponseSchema,
  SigningKeyAlgorithm,
  SigningKeyAlgorithmSchema,
  SigningKeyStateSchema,
  type SigningKey,
} from "../../gen/portcullis/v1/signing_keys_pb.js";
import { UsageError, type Command, type CommandGroup } from "./cli-command.js";
import { enumText, renderFields, renderTable, resultOf, timeText } from "./cli-output.js";

const ALGORITHMS: Record<string, SigningKeyAlgorithm> = {
  hs256: SigningKeyAlgorithm.HS256,
  es256: SigningKeyAlgorithm.ES256,
};

function keyText(key: SigningKey | undefined): string {
  if (key === undefined) return "";
  return renderFields([
    ["kid", key.kid],
    ["algorithm", enumText(SigningKeyAlgorithmSchema, key.algorithm)],
    ["state", enumText(SigningKeyStateSchema, key.state)],
    ["created", timeText(key.createdAt)],
    ["retired", timeText(key.retiredAt)],
  ]);
}

function keysTable(keys: readonly SigningKey[]): string {
  return renderTable(
    ["KID", "ALGORITHM", "STATE", "CREATED", "RETIRED"],
    keys.map((key) => [
      key.kid,
      enumText(SigningKeyAlgorithmSchema, key.algorithm),
      enumText(SigningKeyStateSchema, key.state),
      timeText(key.createdAt),
      timeText(key.retiredAt),
    ]),
  );
}

const create: Command = {
  name: "create",
  arguments: [],
  options: { algorithm: { type: "string" } },
  synopsis: "create [--algorithm hs256|es256]",
  summary: "the key that signs team tokens from now on (default hs256); the previous one turns verify-only",
  async run(input, context) {
    const name = (input.string("algorithm") ?? "hs256").toLowerCase();
    const algorithm = ALGORITHMS[name];
    if (algorithm === undefined) throw new UsageError(`--algorithm: expected hs256 or es256, got "${name}"`, keyCommands);
    const response = await context.clients().admin.createSigningKey({ algorithm }, context.asCaller());
    return resultOf(CreateSigningKeyResponseSchema, response, keyText(response.key));
  },
};

const list: Command = {
  name: "list",
  arguments: [],
  options: {},
  synopsis: "list",
  summary: "every signing key with its state (never key material)",
  async run(_input, context) {
    const response = await context.clients().admin.listSigningKeys({}, context.asCaller());
    return resultOf(ListSigningKeysResponseSchema, response, keysTable(response.keys));
  },
};

const retire: Command = {
  name: "retire",
  arguments: ["<kid>"],
  options: {},
  synopsis: "retire <kid>",
  summary: "reject every token the key signed, at once on every replica",
  async run(input, context) {
    const response = await context.clients().admin.retireSigningKey({ kid: input.args[0] }, context.asCaller());
    return resultOf(RetireSigningKeyResponseSchema, response, keyText(response.key));
  },
};

export const keyCommands: CommandGroup = {
  name: "keys",
  summary: "create, list and retire the keys that sign team tokens",
  commands: [create, list, retire],
};
