import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Metrics } from "./metrics.js";

/**
 * Counts calls to the given admin services by method and result code. Goes
 * first in the interceptor list, outside the error mapping, so it sees the
 * wire code the caller gets. Both labels come from closed sets: methods the
 * router resolved from the schema, and Connect's codes.
 */
export function adminCallsInterceptor(metrics: Metrics, services: readonly DescService[]): Interceptor {
  const counted = new Set(services.map((service) => service.typeName));
  return (next) => async (request) => {
    if (!counted.has(request.service.typeName)) return next(request);
    try {
      const response = await next(request);
      metrics.adminCalls.labels(request.method.name, "ok").inc();
      return response;
    } catch (error) {
      metrics.adminCalls.labels(request.method.name, codeName(ConnectError.from(error).code)).inc();
      throw error;
    }
  };
}

/** Connect's wire spelling: Code.PermissionDenied → "permission_denied". */
function codeName(code: Code): string {
  return Code[code].replace(/(?<!^)[A-Z]/g, (letter) => `_${letter}`).toLowerCase();
}
