import { afterAll, beforeAll } from "vitest";
import { bearer, createClients, type Clients } from "./clients.js";
import { startReplicas, type Replicas } from "./replicas.js";

/** Two replicas of one Redis for a describe block: A changes, B is asked. Filled in before its tests run. */
export interface TwoReplicas {
  replicas: Replicas;
  a: Clients;
  b: Clients;
  asRoot: ReturnType<typeof bearer>;
}

/** Starts two replicas before the enclosing describe block's tests and stops them after. */
export function twoReplicasOfOneRedis(): TwoReplicas {
  const fixture = {} as TwoReplicas;
  beforeAll(async () => {
    fixture.replicas = await startReplicas(2);
    fixture.asRoot = bearer(fixture.replicas.rootToken);
    fixture.a = createClients(fixture.replicas.servers[0]!.url);
    fixture.b = createClients(fixture.replicas.servers[1]!.url);
  });
  afterAll(async () => {
    await fixture.replicas?.stop();
  });
  return fixture;
}
