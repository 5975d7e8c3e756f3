/**
 * Revocation propagation between replicas, for every kind of change that
 * takes a credential away: make the change on replica A through the API
 * and time, from A's answer, how long replica B still allows the
 * credential. B has decided with it just before, so B's caches hold it.
 */
import { Decision } from "../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients, type Clients } from "../test/support/clients.js";
import { mintTeamToken, teamWithToken } from "../test/support/jwt-fixture.js";
import { percentile } from "./latency-log.js";
import { BENCH_RESOURCE, mintOpaque } from "./bench-credentials.js";
import { REVOCATION_KINDS, type RevocationKind, type RevocationResult } from "./results.js";

/** Past this, B counts as never having denied (and the figure is this long). */
const GIVE_UP_MS = 5000;

/** A credential B allows, and the change on A that takes it away. */
interface Doomed {
  token: string;
  takeAway(): Promise<unknown>;
}

interface KindOfRevocation {
  description: string;
  prepare(admin: Clients["admin"], root: string, round: number): Promise<Doomed>;
}

const KINDS: Record<RevocationKind, KindOfRevocation> = {
  "opaque-token-revoke": {
    description: "RevokeToken of an opaque token",
    async prepare(admin, root, round) {
      const { token, tokenId } = await mintOpaque(admin, root, `revocation-${round}`);
      return { token, takeAway: () => admin.revokeToken({ tokenId }, bearer(root)) };
    },
  },
  "team-token-rotation": {
    description: "MintToken of a team's next team token (the previous one is rotated out)",
    async prepare(admin, root) {
      const { teamId, token } = await teamWithToken(admin, root);
      return { token, takeAway: () => mintTeamToken(admin, root, teamId) };
    },
  },
  "team-deactivation": {
    description: "DeactivateTeam of a team token's team",
    async prepare(admin, root) {
      const { teamId, token } = await teamWithToken(admin, root);
      return { token, takeAway: () => admin.deactivateTeam({ teamId }, bearer(root)) };
    },
  },
  "signing-key-retirement": {
    description: "RetireSigningKey of the key that signed a team token",
    async prepare(admin, root) {
      const { kid, token } = await teamWithToken(admin, root);
      return { token, takeAway: () => admin.retireSigningKey({ kid }, bearer(root)) };
    },
  },
};

/** Every kind in turn, `revocations` of each. */
export async function measureRevocations(replicaA: string, replicaB: string, root: string, revocations: number): Promise<RevocationResult[]> {
  const results: RevocationResult[] = [];
  for (const kind of REVOCATION_KINDS) results.push(await measureRevocation(kind, replicaA, replicaB, root, revocations));
  return results;
}

async function measureRevocation(kind: RevocationKind, replicaA: string, replicaB: string, root: string, revocations: number): Promise<RevocationResult> {
  const { admin } = createClients(replicaA);
  const b = createClients(replicaB);
  const decideOnB = async (token: string) =>
    (await b.authorization.authorize({ authorization: `Bearer ${token}`, resource: BENCH_RESOURCE })).decision;
  const elapsed: number[] = [];
  let timeouts = 0;
  for (let round = 0; round < revocations; round++) {
    const doomed = await KINDS[kind].prepare(admin, root, round);
    // Twice: a first decision may fill a cache, the second is served from it.
    for (let warm = 0; warm < 2; warm++) {
      if ((await decideOnB(doomed.token)) !== Decision.ALLOW) throw new Error(`${kind}: replica B does not allow a credential replica A just made`);
    }
    await doomed.takeAway();
    const changed = performance.now();
    let waited = 0;
    while ((await decideOnB(doomed.token)) === Decision.ALLOW) {
      waited = performance.now() - changed;
      if (waited >= GIVE_UP_MS) break;
    }
    waited = performance.now() - changed;
    if (waited >= GIVE_UP_MS) timeouts++;
    elapsed.push(Math.min(waited, GIVE_UP_MS));
  }
  elapsed.sort((x, y) => x - y);
  return {
    kind,
    description: KINDS[kind].description,
    revocations,
    p50_ms: percentile(elapsed, 50),
    p99_ms: percentile(elapsed, 99),
    max_ms: elapsed[elapsed.length - 1]!,
    timeouts,
  };
}
