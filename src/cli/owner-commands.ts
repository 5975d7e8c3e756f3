import {
  DeactivateOwnerResponseSchema,
  GetOwnerResponseSchema,
  ReactivateOwnerResponseSchema,
  type Owner,
} from "../../gen/portcullis/v1/owners_pb.js";
import type { Command, CommandGroup } from "./cli-command.js";
import { renderFields, resultOf, textOrDash, timeText, yesNo } from "./cli-output.js";

function ownerText(owner: Owner | undefined): string {
  if (owner === undefined) return "";
  return renderFields([
    ["owner", owner.owner],
    ["active", yesNo(owner.active)],
    ["deactivated", timeText(owner.deactivatedAt)],
    ["changed", timeText(owner.changedAt)],
    ["changed by", textOrDash(owner.changedBy)],
    ["owned tokens", String(owner.ownedTokens)],
    ["owned teams", String(owner.ownedTeams)],
  ]);
}

const get: Command = {
  name: "get",
  arguments: ["<owner>"],
  options: {},
  synopsis: "get <owner>",
  summary: "an owner's state and what it owns",
  async run(input, context) {
    const response = await context.clients().owners.getOwner({ owner: input.args[0] }, context.asCaller());
    return resultOf(GetOwnerResponseSchema, response, ownerText(response.owner));
  },
};

const deactivate: Command = {
  name: "deactivate",
  arguments: ["<owner>"],
  options: {},
  synopsis: "deactivate <owner>",
  summary: "refuse every token and team token of the owner (owner_disabled) at once on every replica, revoking none",
  async run(input, context) {
    const response = await context.clients().owners.deactivateOwner({ owner: input.args[0] }, context.asCaller());
    return resultOf(DeactivateOwnerResponseSchema, response, ownerText(response.owner));
  },
};

const reactivate: Command = {
  name: "reactivate",
  arguments: ["<owner>"],
  options: {},
  synopsis: "reactivate <owner>",
  summary: "accept the owner's tokens and team tokens again",
  async run(input, context) {
    const response = await context.clients().owners.reactivateOwner({ owner: input.args[0] }, context.asCaller());
    return resultOf(ReactivateOwnerResponseSchema, response, ownerText(response.owner));
  },
};

export const ownerCommands: CommandGroup = {
  name: "owners",
  summary: "show, deactivate and reactivate owners (the users tokens and teams belong to)",
  commands: [get, deactivate, reactivate],
};
