import type { HandlerContext } from "@connectrpc/connect";

/** The caller's own credential: a call's Authorization header. */
export function authorizationOf(header: Headers): string {
  return header.get("authorization") ?? "";
}

/** The caller's own credential, from the call's Authorization header. */
export function callerCredential(context: HandlerContext): string {
  return authorizationOf(context.requestHeader);
}
