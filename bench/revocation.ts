/**
 * Revocation propagation between replicas: revoke a token on replica A
 * through the API and time, from A's answer, how long replica B still
 * allows it. B has decided with the token just before, so any cache of B's
 * holds it.
 */
import { Decision } from "../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients } from "../test/support/clients.js";
import { percentile } from "./latency-log.js";
import { BENCH_RESOURCE, mintOpaque } from "./bench-credentials.js";
import type { RevocationResult } from "./results.js";

/** Past this, B counts as never having denied (and the figure is this long). */
const GIVE_UP_MS = 5000;

export async function measureRevocation(replicaA: string, replicaB: string, root: string, revocations: number): Promise<RevocationResult> {
  const a = createClients(replicaA);
  const b = createClients(replicaB);
  const decideOnB = async (token: string) =>
    (await b.authorization.authorize({ authorization: `Bearer ${token}`, resource: BENCH_RESOURCE })).decision;
  const elapsed: number[] = [];
  let timeouts = 0;
  for (let i = 0; i < revocations; i++) {
    const { token, tokenId } = await mintOpaque(a.admin, root, `revocation-${i}`);
    // Twice: a first decision may fill a cache, the second is served from it.
    for (let warm = 0; warm < 2; warm++) {
      if ((await decideOnB(token)) !== Decision.ALLOW) throw new Error("replica B does not allow a token replica A just minted");
    }
    await a.admin.revokeToken({ tokenId }, bearer(root));
    const revoked = performance.now();
    let waited = 0;
    while ((await decideOnB(token)) === Decision.ALLOW) {
      waited = performance.now() - revoked;
      if (waited >= GIVE_UP_MS) break;
    }
    waited = performance.now() - revoked;
    if (waited >= GIVE_UP_MS) timeouts++;
    elapsed.push(Math.min(waited, GIVE_UP_MS));
  }
  elapsed.sort((x, y) => x - y);
  return {
    revocations,
    p50_ms: percentile(elapsed, 50),
    p99_ms: percentile(elapsed, 99),
    max_ms: elapsed[elapsed.length - 1]!,
    timeouts,
  };
}
