import {
  AuthorizeResponseSchema,
  CredentialTypeSchema,
  Decision,
  DecisionSchema,
  DenialSchema,
} from "../../gen/portcullis/v1/authorization_pb.js";
import type { Command, CommandGroup } from "./cli-command.js";
import { enumText, listText, renderFields, resultOf, textOrDash } from "./cli-output.js";

const authorize: Command = {
  name: "authorize",
  arguments: ["<resource>"],
  options: { "required-scope": { type: "string" }, host: { type: "string" } },
  synopsis: 'authorize <resource> [--required-scope S] [--host H]',
  summary: 'decide <resource> ("GET /api/x", "tool:search") for the token; a DENY exits with status 2',
  async run(input, context) {
    const request = {
      authorization: `Bearer ${context.token()}`,
      resource: input.args[0],
      requiredScope: input.string("required-scope"),
      host: input.string("host") ?? "",
    };
    const response = await context.clients().authorization.authorize(request);
    const principal = response.principal;
    const text = renderFields([
      ["decision", enumText(DecisionSchema, response.decision)],
      ["reason", response.reason],
      ["denial", enumText(DenialSchema, response.denial)],
      ["subject", textOrDash(principal?.subject ?? "")],
      ["token id", textOrDash(principal?.tokenId ?? "")],
      ["credential", principal === undefined ? "-" : enumText(CredentialTypeSchema, principal.credentialType)],
      ["scopes", listText(response.scopes)],
      ["libraries", listText(response.libraries)],
      ["required scope", textOrDash(response.requiredScope)],
    ]);
    // Anything but an explicit allow is a denial for the exit status: fail closed.
    return resultOf(AuthorizeResponseSchema, response, text, response.decision !== Decision.ALLOW);
  },
};

export const authorizeCommand: CommandGroup = {
  name: "authorize",
  summary: "ask for a decision as a gateway would, with the token given",
  commands: [authorize],
};
