import { describe, expect, it } from "vitest";
import { auditLog } from "../../src/observability/audit-log.js";
import { captureLog } from "../support/captured-log.js";

describe("the audit log", () => {
  it.each(["error", "silent"])("writes its lines at info when the service logs at %s, and nothing else", (level) => {
    const captured = captureLog(level);
    captured.log.info("not an audit line");
    auditLog(captured.log).record({ event: "token.revoke", caller: { tokenId: "tok_caller" }, targets: { tokenId: "tok_target" }, requestId: "r-1" });
    expect(captured.entries()).toEqual([
      expect.objectContaining({
        level: 30,
        log: "audit",
        event: "token.revoke",
        caller: { tokenId: "tok_caller" },
        tokenId: "tok_target",
        outcome: "success",
        requestId: "r-1",
      }),
    ]);
  });

  it("names a failure by its code, and masks a credential as every line of the service is", () => {
    const captured = captureLog("error");
    const secret = `pcl_${"s".repeat(43)}`;
    auditLog(captured.log).record({ event: "token.mint", caller: {}, targets: { note: secret }, failure: "permission_denied", requestId: "r-2" });
    expect(captured.entries()[0]).toMatchObject({ outcome: "failure", code: "permission_denied", caller: {} });
    expect(captured.text()).not.toContain(secret);
  });
});
