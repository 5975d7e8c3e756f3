import { randomUUID } from "node:crypto";
import { ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor } from "@connectrpc/connect";

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * A caller's id is taken only when it is short and plain (UUIDs, ULIDs,
 * Envoy's and most gateways' ids): it is copied into log lines and response
 * headers, so nothing that could be a credential, a log injection or a
 * header split may pass.
 */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** The call's request id, set for every Connect call by `requestIdValues`. */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

/** The caller's well-formed `x-request-id`, or a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === "string" && WELL_FORMED.test(header) ? header : randomUUID();
}

/** connect-node's `contextValues`: the request id of each call. */
export function requestIdValues(request: { headers: Record<string, string | string[] | undefined> }): ContextValues {
  return createContextValues().set(requestIdKey, requestIdOf(request.headers[REQUEST_ID_HEADER]));
}

/**
 * Answers the request id in the `x-request-id` response header (in the
 * trailers of a failed gRPC call), so a caller can quote the id its call
 * was logged under. Goes first in the interceptor list.
 */
export function requestIdInterceptor(): Interceptor {
  return (next) => async (request) => {
    const id = request.contextValues.get(requestIdKey);
    try {
      const response = await next(request);
      response.header.set(REQUEST_ID_HEADER, id);
      return response;
    } catch (error) {
      const failure = ConnectError.from(error);
      failure.metadata.set(REQUEST_ID_HEADER, id);
      throw failure;
    }
  };
}
