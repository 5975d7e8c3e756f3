import {
  AssignLibrariesResponseSchema,
  CreateTeamResponseSchema,
  DeactivateTeamResponseSchema,
  GetTeamResponseSchema,
  ListTeamsResponseSchema,
  type Team,
} from "../../gen/portcullis/v1/teams_pb.js";
import { UsageError, type Command, type CommandGroup } from "./cli-command.js";
import { listText, renderFields, renderTable, resultOf, textOrDash, timeText, yesNo } from "./cli-output.js";

function teamText(team: Team | undefined): string {
  if (team === undefined) return "";
  return renderFields([
    ["team id", team.teamId],
    ["name", textOrDash(team.name)],
    ["libraries", listText(team.libraries)],
    ["owner", textOrDash(team.owner)],
    ["active", yesNo(team.active)],
    ["active token", textOrDash(team.activeTokenId)],
    ["created", timeText(team.createdAt)],
    ["deactivated", timeText(team.deactivatedAt)],
  ]);
}

function teamsTable(teams: readonly Team[]): string {
  return renderTable(
    ["TEAM ID", "NAME", "OWNER", "LIBRARIES", "ACTIVE", "ACTIVE TOKEN", "CREATED"],
    teams.map((team) => [
      team.teamId,
      textOrDash(team.name),
      textOrDash(team.owner),
      listText(team.libraries),
      yesNo(team.active),
      textOrDash(team.activeTokenId),
      timeText(team.createdAt),
    ]),
  );
}

const create: Command = {
  name: "create",
  arguments: [],
  options: { name: { type: "string" }, library: { type: "string", multiple: true }, owner: { type: "string" } },
  synopsis: "create --name NAME [--library L ...] [--owner USER_ID]",
  summary: "a team; mint its token with: tokens mint --team TEAM_ID",
  async run(input, context) {
    const response = await context.clients().admin.createTeam(
      { name: input.string("name") ?? "", libraries: input.strings("library"), owner: input.string("owner") ?? "" },
      context.asCaller(),
    );
    return resultOf(CreateTeamResponseSchema, response, teamText(response.team));
  },
};

const list: Command = {
  name: "list",
  arguments: [],
  options: {},
  synopsis: "list",
  summary: "every team, active or not",
  async run(_input, context) {
    const response = await context.clients().admin.listTeams({}, context.asCaller());
    return resultOf(ListTeamsResponseSchema, response, teamsTable(response.teams));
  },
};

const get: Command = {
  name: "get",
  arguments: ["<team_id>"],
  options: {},
  synopsis: "get <team_id>",
  summary: "one team",
  async run(input, context) {
    const response = await context.clients().admin.getTeam({ teamId: input.args[0] }, context.asCaller());
    return resultOf(GetTeamResponseSchema, response, teamText(response.team));
  },
};

const assign: Command = {
  name: "assign",
  arguments: ["<team_id>"],
  options: { library: { type: "string", multiple: true }, "no-libraries": { type: "boolean" } },
  synopsis: "assign <team_id> (--library L [--library L ...] | --no-libraries)",
  summary: "replace the team's libraries; the next request sees them",
  async run(input, context) {
    const libraries = input.strings("library");
    // An empty set takes away every library, so it is asked for by name rather than by forgetting --library.
    if ((libraries.length > 0) === input.flag("no-libraries")) {
      throw new UsageError("teams assign: give --library (repeatable) or --no-libraries, not both", teamCommands);
    }
    const response = await context.clients().admin.assignLibraries({ teamId: input.args[0], libraries }, context.asCaller());
    return resultOf(AssignLibrariesResponseSchema, response, teamText(response.team));
  },
};

const deactivate: Command = {
  name: "deactivate",
  arguments: ["<team_id>"],
  options: {},
  synopsis: "deactivate <team_id>",
  summary: "reject the team's token at once on every replica",
  async run(input, context) {
    const response = await context.clients().admin.deactivateTeam({ teamId: input.args[0] }, context.asCaller());
    return resultOf(DeactivateTeamResponseSchema, response, teamText(response.team));
  },
};

export const teamCommands: CommandGroup = {
  name: "teams",
  summary: "create, list, show teams, assign their libraries, deactivate them",
  commands: [create, list, get, assign, deactivate],
};
