import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AwaitOutcome, DcrKeySchema } from "../../gen/portcullis/v1/dcr_pb.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { TEST_TOPOLOGIES } from "../support/redis.js";
import { startReplicas, type Replicas } from "../support/replicas.js";

const key = create(DcrKeySchema, {
  issuer: "https://thv.example.com",
  upstreamId: "https://idp.example.com",
  redirectUri: "https://thv.example.com/oauth/callback",
  scopeSet: { case: "scopes", value: { values: ["openid"] } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a proxy replica does before it needs an upstream client: use the
 * stored one, or register if it wins the lease, or wait for the winner.
 */
async function obtainClient(
  dcr: Clients["dcr"],
  rootToken: string,
  caller: string,
  leaseTtlSeconds: bigint,
): Promise<{ clientId: string; registered: boolean }> {
  const auth = bearer(rootToken);
  for (;;) {
    const { result } = await dcr.acquireRegistration({ key, ttl: { seconds: leaseTtlSeconds } }, auth);
    if (result.case === "entry") return { clientId: result.value.resolution!.clientId, registered: false };
    if (result.case === "lease") {
      await sleep(150); // the registration request at the upstream server
      const clientId = `registered-by-${caller}`;
      const put = await dcr.putDcrResolution(
        {
          key,
          leaseId: result.value.leaseId,
          resolution: { clientId, authorizationEndpoint: "https://idp.example.com/a", tokenEndpoint: "https://idp.example.com/t" },
        },
        auth,
      );
      expect(put.leaseReleased).toBe(true);
      return { clientId, registered: true };
    }
    const waited = await dcr.awaitResolution({ key, timeout: { seconds: 15n } }, auth);
    if (waited.outcome === AwaitOutcome.RESOLVED) return { clientId: waited.entry!.resolution!.clientId, registered: false };
    if (waited.outcome !== AwaitOutcome.LEASE_EXPIRED) throw new Error(`await ended with ${AwaitOutcome[waited.outcome]}`);
  }
}

// Each test starts two server processes; on a loaded machine that alone can take most of the default 30 s.
describe("the registration lease across two server processes", { timeout: 60_000 }, () => {
  let replicas: Replicas | undefined;
  afterEach(async () => {
    await replicas?.stop();
    replicas = undefined;
  });

  it.each(TEST_TOPOLOGIES)("lets exactly one of ten concurrent callers register, and gives all ten its client ($label)", async (topology) => {
    replicas = await startReplicas(2, {}, topology);
    const { servers, rootToken } = replicas;
    const clients = servers.map((server) => createClients(server.url).dcr);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, index) => obtainClient(clients[index % 2]!, rootToken, `caller-${index}`, 10n)),
    );
    expect(outcomes.filter((outcome) => outcome.registered)).toHaveLength(1);
    expect(new Set(outcomes.map((outcome) => outcome.clientId)).size).toBe(1);
  });

  it("hands the lease to another caller once a leader that died without a put lets it expire", async () => {
    replicas = await startReplicas(2);
    const { servers, rootToken } = replicas;
    const [onA, onB] = servers.map((server) => createClients(server.url).dcr);
    const first = await onA!.acquireRegistration({ key, ttl: { seconds: 1n } }, bearer(rootToken));
    expect(first.result.case).toBe("lease");
    // The leader and the replica it talked to die before any put.
    servers[0]!.child.kill("SIGKILL");

    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, index) => obtainClient(onB!, rootToken, `survivor-${index}`, 10n)),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(outcomes.filter((outcome) => outcome.registered)).toHaveLength(1);
    expect(new Set(outcomes.map((outcome) => outcome.clientId)).size).toBe(1);
    expect(outcomes[0]!.clientId).toMatch(/^registered-by-survivor-/);
  });

  it("refuses the late put of a leader whose lease expired and passed to another, so every replica keeps the newer client", async () => {
    replicas = await startReplicas(2);
    const { servers, rootToken } = replicas;
    const auth = bearer(rootToken);
    const [onA, onB] = servers.map((server) => createClients(server.url).dcr);
    const stalled = await onA!.acquireRegistration({ key, ttl: { seconds: 1n } }, auth);
    expect(stalled.result.case).toBe("lease");
    const expired = await onB!.awaitResolution({ key, timeout: { seconds: 5n } }, auth);
    expect(expired.outcome).toBe(AwaitOutcome.LEASE_EXPIRED);
    expect((await obtainClient(onB!, rootToken, "successor", 10n)).clientId).toBe("registered-by-successor");

    const late = await rejectionOf(
      onA!.putDcrResolution(
        {
          key,
          leaseId: stalled.result.case === "lease" ? stalled.result.value.leaseId : "",
          resolution: {
            clientId: "registered-by-stalled",
            authorizationEndpoint: "https://idp.example.com/a",
            tokenEndpoint: "https://idp.example.com/t",
          },
        },
        auth,
      ),
    );
    expect(late.code).toBe(Code.Aborted);
    expect(late.rawMessage).toMatch(/^lease_lost:/);
    for (const replica of [onA!, onB!]) {
      expect((await replica.getDcrResolution({ key }, auth)).entry!.resolution!.clientId).toBe("registered-by-successor");
    }
  });
});
