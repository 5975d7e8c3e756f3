import type { ServiceImpl } from "@connectrpc/connect";
import { NotFoundError } from "../errors.js";
import type { ReadinessMonitor } from "./readiness-monitor.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

export interface HealthDeps {
  /** Full names of the services whose health is reported, besides "" (the whole server). */
  services: readonly string[];
  /** The same readiness `/readyz` reports. */
  readiness: ReadinessMonitor;
  /** Aborted when the server begins to stop: every answer turns NOT_SERVING, and Watch streams end. */
  stopping: AbortSignal;
}

/**
 * `grpc.health.v1.Health`, as Kubernetes gRPC probes, Envoy's gRPC health
 * checks and grpc-health-probe ask it: every service is as healthy as the
 * server, since all of them stand on the same store.
 */
export function createHealthService(deps: HealthDeps): ServiceImpl<typeof Health> {
  const known = new Set(["", ...deps.services]);
  const statusOf = (ready: boolean) => (ready && !deps.stopping.aborted ? Status.SERVING : Status.NOT_SERVING);
  const current = async () => statusOf(await deps.readiness.isReady());
  const unknown = () => new NotFoundError("unknown service: the health service reports the server's own services only");

  /** The current status, then each change, until `ended`; NOT_SERVING last when the server stops. */
  async function* changes(ended: AbortSignal, callerLeft: () => boolean) {
    let latest: Status | undefined;
    let wake = () => {};
    // Listening before the first answer, so no change between the two is lost.
    const stopWatching = deps.readiness.watch((ready) => {
      latest = statusOf(ready);
      wake();
    });
    const onEnd = () => wake();
    ended.addEventListener("abort", onEnd);
    try {
      let sent = await current();
      yield { status: sent };
      for (;;) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (ended.aborted || (latest !== undefined && latest !== sent)) resolve();
        });
        if (ended.aborted) break;
        if (latest !== undefined && latest !== sent) {
          sent = latest;
          yield { status: sent };
        }
      }
      if (!callerLeft() && sent !== Status.NOT_SERVING) yield { status: Status.NOT_SERVING };
    } finally {
      stopWatching();
      ended.removeEventListener("abort", onEnd);
    }
  }

  return {
    async check(request) {
      if (!known.has(request.service)) throw unknown();
      return { status: await current() };
    },

    async *watch(request, context) {
      const ended = AbortSignal.any([context.signal, deps.stopping]);
      if (!known.has(request.service)) {
        // The spec keeps the stream open: the service might become known later (here it never does).
        yield { status: Status.SERVICE_UNKNOWN };
        await abortOf(ended);
        return;
      }
      yield* changes(ended, () => context.signal.aborted);
    },

    async list() {
      const status = await current();
      return { statuses: Object.fromEntries([...known].map((service) => [service, { status }])) };
    },
  };
}

function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
