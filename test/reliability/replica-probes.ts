import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

export interface ProbeReading {
  readyz: number;
  health: Status | "failed";
}

/** What a load balancer sees of one replica: `/readyz`'s status code and gRPC health's overall status. */
export async function probe(baseUrl: string): Promise<ProbeReading> {
  const health = createClient(Health, createGrpcTransport({ baseUrl }));
  const [readyz, serving] = await Promise.all([
    fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(3000) }).then(
      (response) => response.status,
      () => 0,
    ),
    health.check({ service: "" }, { timeoutMs: 3000 }).then(
      (answer) => answer.status,
      () => "failed" as const,
    ),
  ]);
  return { readyz, health: serving };
}

export const isServing = (reading: ProbeReading) => reading.readyz === 200 && reading.health === Status.SERVING;
export const isNotServing = (reading: ProbeReading) => reading.readyz === 503 && reading.health === Status.NOT_SERVING;

/** Counts the secrets among `secrets` that occur anywhere in `output`. */
export function leakedSecrets(output: string, secrets: Iterable<string>): number {
  let leaked = 0;
  for (const secret of secrets) if (output.includes(secret)) leaked++;
  return leaked;
}

/** Counts, over every replica's output, the secrets among `secrets` that occur in it. */
export function leakedByReplicas(servers: readonly { output(): string }[], secrets: readonly string[]): number {
  return servers.reduce((sum, server) => sum + leakedSecrets(server.output(), secrets), 0);
}
