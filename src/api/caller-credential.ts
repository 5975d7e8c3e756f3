import type { HandlerContext } from "@connectrpc/connect";

/** The caller's own credential, from the call's Authorization header. */
export function callerCredential(context: HandlerContext): string {
  return context.requestHeader.get("authorization") ?? "";
}
