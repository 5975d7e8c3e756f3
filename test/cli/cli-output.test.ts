import { describe, expect, it } from "vitest";
import { TokenKind, TokenKindSchema } from "../../gen/portcullis/v1/token_admin_pb.js";
import { enumText, renderFields, renderTable, timeText } from "../../src/cli/cli-output.js";

describe("the admin CLI's text output", () => {
  it("pads every column but the last to its widest cell, two spaces apart", () => {
    expect(renderTable(["ID", "NAME", "ACTIVE"], [["tok_1", "a much longer name", "yes"], ["tok_22", "b", "no"]])).toBe(
      "ID      NAME                ACTIVE\ntok_1   a much longer name  yes\ntok_22  b                   no\n",
    );
  });

  it("prints a table without rows as its header alone", () => {
    expect(renderTable(["KID", "STATE"], [])).toBe("KID  STATE\n");
  });

  it("shows control characters in names escaped, so a name cannot steer the terminal", () => {
    const text = renderTable(["NAME"], [["evil\u001b[2Jname\nnext"]]) + renderFields([["name", "a\u0007b\u009bc"]]);
    expect(text).toBe("NAME\nevil\\u001b[2Jname\\u000anext\nname:  a\\u0007b\\u009bc\n");
  });

  it("names enum values without their prefix and times to the second in UTC", () => {
    expect(enumText(TokenKindSchema, TokenKind.TEAM_JWT)).toBe("team_jwt");
    expect(enumText(TokenKindSchema, 99)).toBe("99");
    expect(timeText({ $typeName: "google.protobuf.Timestamp", seconds: 4102444800n, nanos: 123_000_000 })).toBe("2100-01-01T00:00:00Z");
    expect(timeText(undefined)).toBe("-");
  });
});
