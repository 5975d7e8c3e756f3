import { durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import type { DcrRegistry } from "../oauth/dcr-registry.js";
import { AwaitOutcome, DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import { callerCredential } from "./caller-credential.js";
import { dcrEntryMessage, dcrKeyInput, dcrResolutionInput } from "./dcr-messages.js";

export const DCR_READ_SCOPE = "dcr:read";
export const DCR_WRITE_SCOPE = "dcr:write";

const AWAIT_OUTCOMES = {
  resolved: AwaitOutcome.RESOLVED,
  lease_expired: AwaitOutcome.LEASE_EXPIRED,
  timeout: AwaitOutcome.TIMEOUT,
} as const;

export function createDcrService(deps: { dcr: DcrRegistry; caller: CallerGate }): ServiceImpl<typeof DcrService> {
  const allow = (context: HandlerContext, scope: string) =>
    deps.caller(callerCredential(context), { kind: "root_or_scope", scope });
  return {
    async getDcrResolution(request, context) {
      await allow(context, DCR_READ_SCOPE);
      return { entry: dcrEntryMessage(await deps.dcr.get(dcrKeyInput(request.key))) };
    },

    async putDcrResolution(request, context) {
      await allow(context, DCR_WRITE_SCOPE);
      const { entry, leaseReleased } = await deps.dcr.put(
        dcrKeyInput(request.key),
        dcrResolutionInput(request.resolution),
        request.leaseId,
      );
      return { entry: dcrEntryMessage(entry), leaseReleased };
    },

    async deleteDcrResolution(request, context) {
      await allow(context, DCR_WRITE_SCOPE);
      await deps.dcr.delete(dcrKeyInput(request.key));
      return {};
    },

    async listDcrResolutions(request, context) {
      await allow(context, DCR_READ_SCOPE);
      return { entries: (await deps.dcr.list(request.issuer)).map(dcrEntryMessage) };
    },

    async acquireRegistration(request, context) {
      await allow(context, DCR_WRITE_SCOPE);
      const ttlMs = request.ttl === undefined ? undefined : durationMs(request.ttl);
      const outcome = await deps.dcr.acquire(dcrKeyInput(request.key), ttlMs);
      if ("entry" in outcome) return { result: { case: "entry", value: dcrEntryMessage(outcome.entry) } };
      if ("lease" in outcome) {
        const { leaseId, expiresAtMs } = outcome.lease;
        return { result: { case: "lease", value: { leaseId, expiresAt: timestampFromMs(expiresAtMs) } } };
      }
      return { result: { case: "leaseHeld", value: { expiresAt: timestampFromMs(outcome.held.expiresAtMs) } } };
    },

    async awaitResolution(request, context) {
      await allow(context, DCR_READ_SCOPE);
      const timeoutMs = request.timeout === undefined ? undefined : durationMs(request.timeout);
      const result = await deps.dcr.await(dcrKeyInput(request.key), timeoutMs, context.signal);
      return {
        outcome: AWAIT_OUTCOMES[result.outcome],
        entry: result.outcome === "resolved" ? dcrEntryMessage(result.entry) : undefined,
      };
    },
  };
}
