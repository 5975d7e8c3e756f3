import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { resetOnThrow } from "../../src/http/reset-on-throw.js";

describe("an encoder that reuses its writer", () => {
  it("starts the answer after a failed call on a fresh writer, without the half message the failure left", () => {
    let writer = new BinaryWriter();
    const encode = resetOnThrow(
      (text: string) => {
        writer.tag(1, WireType.LengthDelimited).string("half");
        if (text === "bad") throw new Error("refused");
        return writer.tag(2, WireType.LengthDelimited).string(text).finish();
      },
      () => (writer = new BinaryWriter()),
    );
    const expected = new BinaryWriter().tag(1, WireType.LengthDelimited).string("half").tag(2, WireType.LengthDelimited).string("ok").finish();
    expect(() => encode("bad")).toThrow("refused");
    expect(encode("ok")).toEqual(expected);
    expect(encode("ok")).toEqual(expected);
  });
});
