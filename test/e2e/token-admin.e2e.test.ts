import { toBinary, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import {
  GetTokenResponseSchema,
  ListTokensResponseSchema,
  Source,
  TokenAdminService,
  TokenKind,
  type MintTokenRequestSchema,
} from "../../gen/portcullis/v1/token_admin_pb.js";
import { BACKENDS, EXAMPLE_CONFIG, startOnBackend } from "../support/backends.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { grpcJsUnary } from "../support/grpc-js-unary.js";
import type { PortcullisProcess } from "../support/portcullis-process.js";

/** The secret and every encoding of its stored hash that a leak could take. */
function secretForms(secret: string): string[] {
  const digest = createHash("sha256").update(secret).digest();
  return [secret, digest.toString("hex"), digest.toString("base64"), digest.toString("base64url")];
}

describe.each(BACKENDS)("TokenAdminService through a Connect client over HTTP/2 on the %s store", (backend) => {
  let server: PortcullisProcess;
  let clients: Clients;
  let root: string;
  /** Every secret this suite has seen, for the log check. */
  const secrets: string[] = [];

  beforeAll(async () => {
    server = await startOnBackend(backend, { env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    clients = createClients(server.url);
    root = await server.rootToken();
    secrets.push(root);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const asRoot = () => bearer(root);
  const mint = async (request: MessageInitShape<typeof MintTokenRequestSchema>) => {
    const minted = await clients.admin.mintToken(request, asRoot());
    secrets.push(minted.token);
    return minted;
  };
  const rootId = async () => {
    const { tokens } = await clients.admin.listTokens({}, asRoot());
    return tokens.find((token) => token.source === Source.BOOTSTRAP)!.tokenId;
  };

  it("mints a pcl_ secret once, with a record that describes the token", async () => {
    const minted = await mint({
      scopes: ["kafka:read", "kafka:read", "reports:read"],
      name: "nightly export",
      allowedLibraries: ["lib-1"],
      allowedTools: ["search"],
    });
    expect(minted.token).toMatch(/^pcl_[A-Za-z0-9_-]{43}$/);
    const record = minted.record!;
    expect(record.tokenId).toMatch(/^tok_[A-Za-z0-9_-]{22}$/);
    expect(record).toMatchObject({
      scopes: ["kafka:read", "reports:read"],
      name: "nightly export",
      allowedLibraries: ["lib-1"],
      allowedTools: ["search"],
      source: Source.MINTED,
      active: true,
    });
    expect(record.createdAt).toBeDefined();
    expect(record.expiresAt).toBeUndefined();
    expect(record.tokenId).not.toContain(minted.token.slice(4, 12));
  });

  it("lists and gets tokens without their secret or its hash, in binary and in JSON", async () => {
    const minted = await mint({ scopes: ["kafka:read"], name: "listed" });
    const listed = await clients.admin.listTokens({}, asRoot());
    expect(listed.tokens.map((token) => token.tokenId)).toContain(minted.record!.tokenId);
    expect(listed.tokens.find((token) => token.source === Source.BOOTSTRAP)?.scopes).toEqual(["*"]);
    const got = await clients.admin.getToken({ tokenId: minted.record!.tokenId }, asRoot());
    expect(got.record).toEqual(minted.record);
    const serialized = [
      Buffer.from(toBinary(ListTokensResponseSchema, listed)).toString("latin1"),
      toJsonString(ListTokensResponseSchema, listed),
      Buffer.from(toBinary(GetTokenResponseSchema, got)).toString("latin1"),
      toJsonString(GetTokenResponseSchema, got),
    ];
    for (const text of serialized) {
      for (const form of [...secretForms(minted.token), ...secretForms(root)]) expect(text).not.toContain(form);
    }
  });

  it("answers GetToken for an unknown id with NotFound and for a malformed id with InvalidArgument", async () => {
    const missing = await rejectionOf(clients.admin.getToken({ tokenId: "tok_AAAAAAAAAAAAAAAAAAAAAA" }, asRoot()));
    expect(missing.code).toBe(Code.NotFound);
    for (const tokenId of ["", "pcl_looks-like-a-secret-not-an-id"]) {
      const error = await rejectionOf(clients.admin.getToken({ tokenId }, asRoot()));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain("token_id");
      expect(error.rawMessage).not.toContain("looks-like-a-secret");
    }
  });

  it("refuses every admin call without a valid credential as Unauthenticated", async () => {
    for (const options of [{}, bearer("pcl_not-a-token-anyone-minted")]) {
      expect((await rejectionOf(clients.admin.listTokens({}, options))).code).toBe(Code.Unauthenticated);
      expect((await rejectionOf(clients.admin.mintToken({ scopes: ["a"] }, options))).code).toBe(Code.Unauthenticated);
    }
  });

  it("refuses every admin call from a minted token as PermissionDenied, whatever its scopes", async () => {
    const minted = await mint({ scopes: ["kafka:read", "tokens:admin", "admin"] });
    const other = await mint({ scopes: ["kafka:read"] });
    const asMinted = bearer(minted.token);
    // Each refusal is taken up as it is made: the calls run at once and may fail in any order.
    const refusals = [
      rejectionOf(clients.admin.mintToken({ scopes: ["kafka:read"] }, asMinted)),
      rejectionOf(clients.admin.listTokens({}, asMinted)),
      rejectionOf(clients.admin.getToken({ tokenId: other.record!.tokenId }, asMinted)),
      rejectionOf(clients.admin.revokeToken({ tokenId: other.record!.tokenId }, asMinted)),
    ];
    for (const refusal of refusals) expect((await refusal).code).toBe(Code.PermissionDenied);
    const stillActive = await clients.admin.getToken({ tokenId: other.record!.tokenId }, asRoot());
    expect(stillActive.record?.active).toBe(true);
  });

  it.each(["*", "auth:tokens", "auth:tokens:read", "auth:tokens:write"])(
    "refuses to mint the scope %s with InvalidArgument naming scopes",
    async (scope) => {
      const error = await rejectionOf(clients.admin.mintToken({ scopes: ["kafka:read", scope] }, asRoot()));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(/^scopes: /);
    },
  );

  it.each<[string, MessageInitShape<typeof MintTokenRequestSchema>, string]>([
    ["no scopes", { scopes: [] }, "scopes"],
    ["an empty scope", { scopes: [""] }, "scopes"],
    ["a scope with a space", { scopes: ["kafka read"] }, "scopes"],
    ["a zero ttl", { scopes: ["a"], ttl: { seconds: 0n } }, "ttl"],
    ["a negative ttl", { scopes: ["a"], ttl: { seconds: -60n } }, "ttl"],
    ["a ttl over ten years", { scopes: ["a"], ttl: { seconds: 400_000_000n } }, "ttl"],
    ["a ttl under a millisecond", { scopes: ["a"], ttl: { nanos: 999_999 } }, "ttl"],
    ["a ttl of positive seconds and negative nanos", { scopes: ["a"], ttl: { seconds: 60n, nanos: -1 } }, "ttl"],
    ["a ttl of negative seconds and positive nanos", { scopes: ["a"], ttl: { seconds: -60n, nanos: 1 } }, "ttl"],
    ["a ttl with nanos of a whole second", { scopes: ["a"], ttl: { seconds: 1n, nanos: 1_000_000_000 } }, "ttl.nanos"],
    ["a ttl with nanos below -999,999,999", { scopes: ["a"], ttl: { seconds: -1n, nanos: -1_000_000_000 } }, "ttl.nanos"],
    ["a ttl beyond the Duration range", { scopes: ["a"], ttl: { seconds: 315_576_000_001n } }, "ttl.seconds"],
    ["a ttl below the Duration range", { scopes: ["a"], ttl: { seconds: -315_576_000_001n } }, "ttl.seconds"],
    [
      "a team token ttl of opposite signs",
      { scopes: ["a"], kind: TokenKind.TEAM_JWT, teamId: "x", ttl: { seconds: 1n, nanos: -1 } },
      "ttl",
    ],
    ["a name with a control character", { scopes: ["a"], name: "a\nb" }, "name"],
    ["a tool with a space", { scopes: ["a"], allowedTools: ["two words"] }, "allowed_tools"],
    ["an empty library", { scopes: ["a"], allowedLibraries: [""] }, "allowed_libraries"],
  ])("refuses a mint with %s as InvalidArgument naming the field", async (_case, request, field) => {
    const error = await rejectionOf(clients.admin.mintToken(request, asRoot()));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage.startsWith(`${field}: `)).toBe(true);
  });

  it("says which rule of google.protobuf.Duration a ttl breaks", async () => {
    const error = await rejectionOf(clients.admin.mintToken({ scopes: ["a"], ttl: { seconds: 60n, nanos: -1 } }, asRoot()));
    expect([error.code, error.rawMessage]).toEqual([
      Code.InvalidArgument,
      "ttl: seconds and nanos must not have opposite signs (google.protobuf.Duration)",
    ]);
  });

  it("takes a ttl with a fraction of a second to the millisecond", async () => {
    const minted = await mint({ scopes: ["kafka:read"], ttl: { seconds: 60n, nanos: 500_999_999 } });
    const { createdAt, expiresAt } = minted.record!;
    expect(timestampMs(expiresAt!) - timestampMs(createdAt!)).toBe(60_500);
  });

  it("reads as written in grpc-js, whose decoder keeps reserved escapes such as %3A", async () => {
    const outcome = await grpcJsUnary(server.url, TokenAdminService.method.mintToken, { scopes: ["*"] }, asRoot().headers);
    expect(outcome).toEqual({ code: status.INVALID_ARGUMENT, details: 'scopes: "*" cannot be minted' });
  });

  it("refuses to let a token revoke itself and keeps it working", async () => {
    const error = await rejectionOf(clients.admin.revokeToken({ tokenId: await rootId() }, asRoot()));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect((await clients.admin.listTokens({}, asRoot())).tokens.length).toBeGreaterThan(0);
  });

  it("revokes once, then answers NotFound, and the revoked token stops working at once", async () => {
    const minted = await mint({ scopes: ["kafka:read"] });
    const tokenId = minted.record!.tokenId;
    const revoked = await clients.admin.revokeToken({ tokenId }, asRoot());
    expect(revoked.record).toMatchObject({ tokenId, active: false });
    expect(revoked.record?.revokedAt).toBeDefined();
    expect((await rejectionOf(clients.admin.revokeToken({ tokenId }, asRoot()))).code).toBe(Code.NotFound);
    const unknown = await rejectionOf(clients.admin.revokeToken({ tokenId: "tok_BBBBBBBBBBBBBBBBBBBBBB" }, asRoot()));
    expect(unknown.code).toBe(Code.NotFound);
    const decision = await clients.authorization.authorize({ authorization: minted.token, resource: "GET /api/kafka/x" });
    expect([decision.decision, decision.reason]).toEqual([Decision.DENY, "token_revoked"]);
    expect((await clients.admin.getToken({ tokenId }, asRoot())).record?.active).toBe(false);
  });

  it("never writes a secret to its logs while minting, authorizing, listing and revoking", async () => {
    const minted = await mint({ scopes: ["kafka:read"], name: "logged" });
    await clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "GET /api/kafka/x" });
    await clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "POST /api/kafka/x" });
    await clients.authorization.authorize({ authorization: `Bearer ${root}`, resource: "GET /api/kafka/x" });
    await clients.authorization.resolveLibraries({ authorization: minted.token });
    await clients.admin.listTokens({}, asRoot());
    await clients.admin.getToken({ tokenId: minted.record!.tokenId }, asRoot());
    await clients.admin.revokeToken({ tokenId: minted.record!.tokenId }, asRoot());
    await clients.authorization.authorize({ authorization: minted.token, resource: "GET /api/kafka/x" });
    await rejectionOf(clients.admin.mintToken({ scopes: ["*"] }, bearer(minted.token)));
    await rejectionOf(clients.admin.getToken({ tokenId: minted.token }, asRoot()));
    const output = server.output();
    expect(output).toContain("portcullis listening");
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      for (const form of secretForms(secret)) expect(output).not.toContain(form);
    }
    expect(output).not.toMatch(/pcl_[A-Za-z0-9_-]{20}/);
  });
});
