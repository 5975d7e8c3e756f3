import type { DescMessage, DescMethod, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { isTokenId } from "../credentials/opaque-token.js";
import { isIssuedKeyId } from "../credentials/jwt/key-id.js";
import { isOwnerId } from "../model/owner.js";
import { isTeamId } from "../model/team.js";
import { canonicalDcrKey } from "../oauth/dcr-key-input.js";
import type { AuditCaller, AuditEvent, AuditLog, AuditTargets } from "../observability/audit-log.js";
import { peerIdentityKey, type PeerIdentity } from "../http/peer-identity.js";
import type { CallerScope, NotedCaller } from "../observability/caller-scope.js";
import { DcrService, type DcrKey } from "../../gen/portcullis/v1/dcr_pb.js";
import { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import { TokenAdminService, TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import { authorizationOf } from "./caller-credential.js";
import { dcrKeyInput } from "./dcr-messages.js";
import { requestIdKey } from "./request-id.js";

/** How one administrative method is audited; `output` is absent when the call failed. */
interface AuditedMethod<I extends DescMessage, O extends DescMessage> {
  event(input: MessageShape<I>): AuditEvent;
  targets(input: MessageShape<I>, output: MessageShape<O> | undefined): AuditTargets;
  result?(output: MessageShape<O>): string;
}

type AuditTable = Map<DescMethod, AuditedMethod<DescMessage, DescMessage>>;

function audited<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  spec: AuditedMethod<I, O>,
): [DescMethod, AuditedMethod<DescMessage, DescMessage>] {
  return [method, spec as unknown as AuditedMethod<DescMessage, DescMessage>];
}

/**
 * Ids as the caller gave them are logged only in the shape such an id has,
 * so a secret pasted into the wrong field never reaches the log; a malformed
 * one is left out (the failure's code says the argument was invalid).
 */
const ids = (entries: Record<string, string | undefined>, valid: (value: string) => boolean): AuditTargets =>
  Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined && valid(entry[1])));

/** The canonical DCR key, or nothing when the caller's key is not one. */
function dcrKeyTarget(key: DcrKey | undefined): AuditTargets {
  try {
    return { dcrKey: { ...canonicalDcrKey(dcrKeyInput(key)) } };
  } catch {
    return {};
  }
}

const { method: admin } = TokenAdminService;
const { method: dcr } = DcrService;
const { method: owners } = OwnerService;
const { method: vault } = UpstreamTokenService;

/** A principal or upstream id is a name, never a secret; only printable ones of a bounded length are logged. */
const isVaultName = (value: string) => /^[\x21-\x7e]{1,256}$/.test(value);

/** Every administrative change and its event: the closed set docs/audit-and-decision-logs.md lists. */
const AUDITED: AuditTable = new Map([
  audited(admin.mintToken, {
    // A team token replaces the team's previous one.
    event: (input) => (input.kind === TokenKind.TEAM_JWT ? "team.rotate" : "token.mint"),
    targets: (input, output) => ({
      ...ids({ tokenId: output?.record?.tokenId }, isTokenId),
      ...(input.kind === TokenKind.TEAM_JWT ? ids({ teamId: input.teamId }, isTeamId) : {}),
      ...ids({ owner: output?.record?.owner ?? input.owner }, isOwnerId),
    }),
  }),
  audited(admin.revokeToken, { event: () => "token.revoke", targets: (input) => ids({ tokenId: input.tokenId }, isTokenId) }),
  audited(admin.deactivateToken, { event: () => "token.deactivate", targets: (input) => ids({ tokenId: input.tokenId }, isTokenId) }),
  audited(admin.reactivateToken, { event: () => "token.reactivate", targets: (input) => ids({ tokenId: input.tokenId }, isTokenId) }),
  audited(owners.deactivateOwner, { event: () => "owner.deactivate", targets: (input) => ids({ owner: input.owner }, isOwnerId) }),
  audited(owners.reactivateOwner, { event: () => "owner.reactivate", targets: (input) => ids({ owner: input.owner }, isOwnerId) }),
  audited(admin.createSigningKey, { event: () => "signing_key.create", targets: (_, output) => ids({ kid: output?.key?.kid }, isIssuedKeyId) }),
  audited(admin.retireSigningKey, { event: () => "signing_key.retire", targets: (input) => ids({ kid: input.kid }, isIssuedKeyId) }),
  audited(admin.createTeam, {
    event: () => "team.create",
    targets: (input, output) => ({ ...ids({ teamId: output?.team?.teamId }, isTeamId), ...ids({ owner: input.owner }, isOwnerId) }),
  }),
  audited(admin.assignLibraries, { event: () => "team.assign", targets: (input) => ids({ teamId: input.teamId }, isTeamId) }),
  audited(admin.deactivateTeam, { event: () => "team.deactivate", targets: (input) => ids({ teamId: input.teamId }, isTeamId) }),
  audited(dcr.putDcrResolution, { event: () => "dcr.put", targets: (input) => dcrKeyTarget(input.key) }),
  audited(dcr.deleteDcrResolution, { event: () => "dcr.delete", targets: (input) => dcrKeyTarget(input.key) }),
  audited(dcr.acquireRegistration, {
    event: () => "dcr.lease_acquire",
    // The lease id is left out: whoever holds it may write the entry and release the lease.
    targets: (input) => dcrKeyTarget(input.key),
    result: (output) => ({ entry: "entry_exists", lease: "lease_granted", leaseHeld: "lease_held" })[output.result.case ?? "leaseHeld"],
  }),
  audited(vault.deleteUpstreamToken, {
    event: () => "upstream_token.delete",
    targets: (input) => ids({ principal: input.principal, upstreamId: input.upstreamId }, isVaultName),
  }),
  audited(vault.deleteUpstreamTokens, {
    event: () => "upstream_token.delete_all",
    targets: (input) => ids({ principal: input.principal }, isVaultName),
    result: (output) => `deleted:${output.deleted}`,
  }),
]);

/**
 * Writes one audit line for each call of an administrative method, after the
 * call, success or failure: the call is wrapped once, so a change can never
 * be logged twice or not at all, and ids only known afterwards (a minted
 * token's) are in hand. Goes outside the error mapping, to see wire codes.
 */
export function auditInterceptor(audit: AuditLog, callers: CallerScope): Interceptor {
  return (next) => async (request) => {
    const method = AUDITED.get(request.method);
    if (method === undefined || request.stream) return next(request);
    // The credential the services hand the engine (callerCredential), under which the engine's answer is noted.
    const { caller, outcome } = await callers.within(authorizationOf(request.header), () => next(request));
    const output = outcome.status === "fulfilled" && !outcome.value.stream ? outcome.value.message : undefined;
    audit.record({
      event: method.event(request.message),
      caller: auditCaller(caller, request.contextValues.get(peerIdentityKey)),
      targets: method.targets(request.message, output),
      ...(outcome.status === "rejected" ? { failure: codeToString(ConnectError.from(outcome.reason).code) } : {}),
      ...(output !== undefined && method.result !== undefined ? { result: method.result(output) } : {}),
      requestId: request.contextValues.get(requestIdKey),
    });
    if (outcome.status === "rejected") throw outcome.reason;
    return outcome.value;
  };
}

/** The one place the audit caller is filled: the bearer's token id, its owner (the acting user) and, with mTLS, the client certificate. */
function auditCaller(noted: NotedCaller, peer: PeerIdentity | undefined): AuditCaller {
  return {
    ...(noted.tokenId === undefined ? {} : { tokenId: noted.tokenId }),
    ...(noted.owner === undefined ? {} : { owner: noted.owner }),
    ...(peer === undefined ? {} : { certificate: peer.names.length > 0 ? peer.names.join(",") : `sha256:${peer.fingerprint256}` }),
  };
}
