import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { createClients } from "../support/clients.js";
import { createEnvoyClient } from "../support/envoy-client.js";
import { eventually } from "../support/eventually.js";
import { startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";
import { JWT_ISSUER_ALIAS, JWT_SUBJECT, JwtIssuers, type JwtTestTokens } from "../support/jwt-fixture.js";

type Line = Record<string, unknown>;

const HASH_KEY = "decision-log-test-key-0123456789abcdefghijklmnopqrstuvwxyz";
const QUERY_SECRET = "query-secret-never-logged-0123456789";
/** The subject as the identity names it: the issuer's alias and the JWT's `sub`. */
const SUBJECT = `jwt:${JWT_ISSUER_ALIAS}:${JWT_SUBJECT}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const decisionLines = (output: string): Line[] =>
  output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.log === "decision");

interface Server {
  fixture: EnvoyFixture;
  jwts: JwtTestTokens;
  /** Every secret the server was given or minted. */
  secrets(): string[];
  authorize(token: string, resource: string): Promise<Decision>;
  /** Envoy's Check for `path` on api.example.com, with the token as a bearer. */
  check(token: string, method: string, path: string): Promise<number>;
  /**
   * Decision lines written since the previous call, once there are at least
   * `count`: lines reach the output in order, so a line missing from one
   * decision would be missing before the last one's.
   */
  newLines(count: number): Promise<Line[]>;
}

const issuers = new JwtIssuers();
let keyDir: string;
const started: Server[] = [];

beforeAll(async () => {
  await issuers.start();
  keyDir = await mkdtemp(join(tmpdir(), "portcullis-log-key-"));
  await writeFile(join(keyDir, "subject.key"), `${HASH_KEY}\n`);
});
afterAll(async () => {
  await Promise.all(started.map((server) => server.fixture.server.stop()));
  await issuers.stop();
  await rm(keyDir, { recursive: true, force: true });
});

/** A server logging at info with the given `log` section, its test tokens and JWTs. */
async function startServer(log: object): Promise<Server> {
  const fixture = await startEnvoyFixture({ config: { jwt: issuers.config(), log }, env: { PORTCULLIS_LOG_LEVEL: "info" } });
  const { tokens: jwts } = await issuers.tokens(fixture.server.url, fixture.tokens.root);
  const clients = createClients(fixture.server.url);
  const envoy = createEnvoyClient(fixture.server.url);
  let seen = decisionLines(fixture.server.output()).length;
  const server: Server = {
    fixture,
    jwts,
    secrets: () => [...Object.values(fixture.tokens), ...Object.values(jwts), QUERY_SECRET],
    authorize: async (token, resource) => (await clients.authorization.authorize({ authorization: `Bearer ${token}`, resource })).decision,
    check: async (token, method, path) =>
      (await envoy.check({ method, path, host: "api.example.com", headers: { authorization: `Bearer ${token}` } })).status?.code ?? -1,
    async newLines(count) {
      await eventually(async () => decisionLines(fixture.server.output()).length >= seen + count, 10_000);
      const lines = decisionLines(fixture.server.output());
      const fresh = lines.slice(seen);
      seen = lines.length;
      return fresh;
    },
  };
  started.push(server);
  await server.newLines(0);
  return server;
}

describe("the decision log with allows unsampled and subjects hashed with a configured key", () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ subject_hash_key_file: join(keyDir, "subject.key"), allow_sample_rate: 0 });
  }, 90_000);

  it("logs every denial at info with its rule, reason and principal, and no allow", async () => {
    const { tokens } = server.fixture;
    expect(await server.authorize(tokens.reader, "GET /api/kafka/topics")).toBe(Decision.ALLOW);
    expect(await server.authorize(server.jwts.jwtRs256, "GET /api/kafka/topics")).toBe(Decision.ALLOW);
    expect(await server.check(tokens.reader, "GET", `/api/kafka/topics?access_token=${QUERY_SECRET}`)).toBe(0);
    expect(await server.authorize(tokens.reader, "POST /api/kafka/topics")).toBe(Decision.DENY);
    expect(await server.authorize(tokens.unknown, "GET /api/kafka/topics")).toBe(Decision.DENY);

    const lines = await server.newLines(2);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        transport: "authorize",
        question: "request",
        method: "POST",
        path: "/api/kafka/topics",
        rule: "kafka-write",
        decision: "deny",
        reason: "insufficient_scope",
        credentialType: "opaque",
        principal: { tokenId: expect.stringMatching(/^tok_/) },
      }),
      expect.objectContaining({ level: 30, transport: "authorize", rule: "kafka-read", decision: "deny", reason: "unknown_token" }),
    ]);
    expect(lines[1]).not.toHaveProperty("principal");
    for (const line of lines) {
      expect(line.decisionId).toMatch(UUID);
      expect(Date.parse(line.timestamp as string)).not.toBeNaN();
      expect(line.latencyMs).toEqual(expect.any(Number));
    }
  });

  it("shows a JWT's issuer and the keyed hash of its subject, never the subject", async () => {
    expect(await server.authorize(server.jwts.jwtRs256, "POST /api/kafka/topics")).toBe(Decision.DENY);
    const [line, ...rest] = await server.newLines(1);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      credentialType: "jwt",
      principal: {
        tokenId: `jwt:${JWT_ISSUER_ALIAS}:jti-rs256`,
        issuer: JWT_ISSUER_ALIAS,
        subjectHash: createHmac("sha256", HASH_KEY).update(SUBJECT).digest("hex"),
      },
    });
    expect(line!.principal).not.toHaveProperty("subject");
  });

  it("logs an Envoy Check denial with the path stripped of its query string and the host", async () => {
    const { tokens } = server.fixture;
    expect(await server.check(tokens.reader, "DELETE", `/api/kafka/topics/orders?access_token=${QUERY_SECRET}&x=1`)).toBe(7);
    expect(await server.newLines(1)).toEqual([
      expect.objectContaining({
        transport: "envoy_check",
        method: "DELETE",
        path: "/api/kafka/topics/orders",
        host: "api.example.com",
        rule: "kafka-write",
        decision: "deny",
        reason: "insufficient_scope",
      }),
    ]);
  });

  it("writes no subject, no query string and no secret anywhere in its output, and no warning about the key", () => {
    const output = server.fixture.server.output();
    expect(output).not.toContain(JWT_SUBJECT);
    for (const secret of server.secrets()) expect(output).not.toContain(secret);
    expect(output).not.toContain("subject_hash_key_file is not set");
  });
});

describe("the decision log with every allow sampled", () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ allow_sample_rate: 1 });
  }, 90_000);

  it("logs allows at info, a JWT's subject hashed by default, and warns that the key is this process's own", async () => {
    const { tokens } = server.fixture;
    expect(await server.authorize(tokens.reader, "GET /api/kafka/topics")).toBe(Decision.ALLOW);
    expect(await server.authorize(server.jwts.jwtRs256, "GET /api/kafka/topics")).toBe(Decision.ALLOW);
    expect(await server.check(tokens.reader, "GET", `/api/kafka/topics?access_token=${QUERY_SECRET}`)).toBe(0);

    const lines = await server.newLines(3);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, transport: "authorize", decision: "allow", reason: "ok", rule: "kafka-read", credentialType: "opaque" }),
      expect.objectContaining({
        level: 30,
        transport: "authorize",
        decision: "allow",
        credentialType: "jwt",
        principal: expect.objectContaining({ issuer: JWT_ISSUER_ALIAS, subjectHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      }),
      expect.objectContaining({ level: 30, transport: "envoy_check", path: "/api/kafka/topics", host: "api.example.com", decision: "allow" }),
    ]);
    const output = server.fixture.server.output();
    expect(output).toMatch(/"level":40,.*"msg":"decision log: log.subject_hash_key_file is not set/);
    expect(output).not.toContain(JWT_SUBJECT);
    for (const secret of server.secrets()) expect(output).not.toContain(secret);
  });
});

describe.each([
  ["plain", { subject: SUBJECT }],
  ["omit", {}],
])("the decision log with log.subjects: %s", (subjects, shown) => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ subjects, allow_sample_rate: 1 });
  }, 90_000);

  it("shows the JWT's subject as configured", async () => {
    expect(await server.authorize(server.jwts.jwtRs256, "GET /api/kafka/topics")).toBe(Decision.ALLOW);
    const [line, ...rest] = await server.newLines(1);
    expect(rest).toEqual([]);
    expect(line!.principal).toEqual({ tokenId: `jwt:${JWT_ISSUER_ALIAS}:jti-rs256`, issuer: JWT_ISSUER_ALIAS, ...shown });
    expect(server.fixture.server.output()).not.toContain("subject_hash_key_file is not set");
  });
});
