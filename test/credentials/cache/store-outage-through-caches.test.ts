import { Code, ConnectError } from "@connectrpc/connect";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, decide, type Clients } from "../../support/clients.js";
import { eventually } from "../../support/eventually.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { startOwnRedis, type OwnRedis } from "../../support/redis-server.js";

type Outcome = "allow" | "deny" | "unavailable" | "other failure";

describe("cached credentials while the store's Redis is away", () => {
  let redis: OwnRedis;
  let server: InProcessPortcullis;
  let clients: Clients;
  const rootToken = randomBytes(32).toString("base64url");
  let tokens: { opaque: string; team: string };

  beforeAll(async () => {
    redis = await startOwnRedis();
    server = await startInProcess({ REDIS_URL: redis.url, PORTCULLIS_REDIS_TIMEOUT_MS: "300", PORTCULLIS_ROOT_TOKENS: rootToken });
    clients = createClients(server.url);
    const asRoot = bearer(rootToken);
    await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
    const { team } = await clients.admin.createTeam({ name: "outage", libraries: ["lib-a"] }, asRoot);
    tokens = {
      opaque: (await clients.admin.mintToken({ scopes: ["kafka:read"], name: "outage" }, asRoot)).token,
      team: (await clients.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"] }, asRoot)).token,
    };
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.dispose();
  });

  const outcome = (token: string): Promise<Outcome> =>
    decide(clients, token, "kafka:read").then(
      ({ decision }) => (decision === Decision.ALLOW ? "allow" : "deny"),
      (error: unknown) => (ConnectError.from(error).code === Code.Unavailable ? "unavailable" : "other failure"),
    );
  const outcomes = async () => [await outcome(tokens.opaque), await outcome(tokens.team)];

  /** Both credentials allowed several times: both sit in the caches. */
  async function warm(): Promise<void> {
    for (let round = 0; round < 3; round++) expect(await outcomes()).toEqual(["allow", "allow"]);
  }

  /** Once the outage is noticed, every answer is Unavailable: never an allow from a cache, never a cached error. */
  async function unavailableThroughout(): Promise<void> {
    await eventually(async () => (await outcomes()).every((answer) => answer === "unavailable"), 10_000);
    for (let round = 0; round < 5; round++) expect(await outcomes()).toEqual(["unavailable", "unavailable"]);
  }

  it("answers Unavailable, never a cached allow, while Redis is stopped, and allows again once it is back", async () => {
    await warm();
    await redis.stop();
    await unavailableThroughout();
    await redis.start();
    await eventually(async () => (await outcomes()).every((answer) => answer === "allow"), 20_000);
  });

  it("answers Unavailable, never a cached allow, while Redis is frozen, and allows again once it runs", async () => {
    await warm();
    redis.freeze();
    try {
      await unavailableThroughout();
    } finally {
      redis.thaw();
    }
    await eventually(async () => (await outcomes()).every((answer) => answer === "allow"), 20_000);
  });
});
