import { expect, it } from "vitest";
import { FailedPreconditionError } from "../../src/errors.js";
import { envelopeSealer } from "../../src/sealing/secret-sealer.js";
import { describeDcrContract } from "../support/dcr-backends.js";
import { exampleResolution } from "../support/dcr-fixtures.js";

describeDcrContract("envelope encryption", ({ backend, registry, freshKey }) => {
  const sealed = () => registry(envelopeSealer(Buffer.alloc(32, 7)));

  it("stores secrets sealed and returns them plain", async () => {
    const key = freshKey();
    await sealed().put(key, exampleResolution(), "");
    const text = (await backend().storedText(key)) ?? "";
    expect(text).toContain("client-123");
    expect(text).not.toContain("s3cret-client-value");
    expect(text).not.toContain("reg-access-token-value");
    const { record } = await sealed().get(key);
    expect([record.clientSecret, record.registrationAccessToken]).toEqual(["s3cret-client-value", "reg-access-token-value"]);
  });

  it("refuses to hand out a sealed secret without the key, or with another key", async () => {
    const key = freshKey();
    await sealed().put(key, exampleResolution(), "");
    await expect(registry().get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(registry(envelopeSealer(Buffer.alloc(32, 8))).get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it("still reads entries written plain before encryption was turned on", async () => {
    const key = freshKey();
    await registry().put(key, exampleResolution(), "");
    expect((await sealed().get(key)).record.clientSecret).toBe("s3cret-client-value");
  });
});
