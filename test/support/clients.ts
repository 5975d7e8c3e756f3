import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { SecureClientSessionOptions } from "node:http2";
import { AuthorizationService, type Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import { OAuthFlowService } from "../../gen/portcullis/v1/oauth_flow_pb.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";

export interface Clients {
  authorization: Client<typeof AuthorizationService>;
  admin: Client<typeof TokenAdminService>;
  dcr: Client<typeof DcrService>;
  oauthFlow: Client<typeof OAuthFlowService>;
}

/**
 * Connect clients speaking gRPC over HTTP/2, as gateways do: prior knowledge
 * on http://, TLS on https:// (`tls` gives the CA and a client certificate).
 */
export function createClients(baseUrl: string, tls?: SecureClientSessionOptions): Clients {
  const transport = createGrpcTransport({ baseUrl, ...(tls === undefined ? {} : { nodeOptions: tls }) });
  return {
    authorization: createClient(AuthorizationService, transport),
    admin: createClient(TokenAdminService, transport),
    dcr: createClient(DcrService, transport),
    oauthFlow: createClient(OAuthFlowService, transport),
  };
}

export function bearer(token: string): { headers: { authorization: string } } {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** The ConnectError a call failed with; fails the test when the call succeeded. */
export async function rejectionOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Asks whether `token` may use `scope` on a test resource; the decision and its reason. */
export async function decide(clients: Clients, token: string, scope: string): Promise<{ decision: Decision; reason: string }> {
  const { decision, reason } = await clients.authorization.authorize({
    authorization: `Bearer ${token}`,
    resource: "GET /api/store-test",
    requiredScope: scope,
  });
  return { decision, reason };
}
