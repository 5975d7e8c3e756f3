import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { jwksKeySourcePool } from "../credentials/jwt/jwks-key-source.js";
import { createDcrRegistry } from "../oauth/dcr-registry.js";
import { jwksIdTokenVerifier } from "../oauth/id-token-verifier.js";
import { createOAuthFlow } from "../oauth/oauth-flow.js";
import type { SecretSealer } from "../sealing/secret-sealer.js";
import { upstreamAllowList } from "../oauth/upstream-allow-list.js";
import { createUpstreamTokenVault } from "../oauth/upstream-token-vault.js";
import type { Store } from "../store/store.js";
import { upstreamAddressPolicy } from "../upstream/address-policy.js";
import { guardedDispatcher } from "../upstream/guarded-dispatcher.js";
import { IssuerDiscovery } from "../upstream/issuer-discovery.js";

/** Shared DCR client state and the OAuth flows run against upstream authorization servers. */
/** `stopping` is aborted when the server shuts down, ending DCR waits at once; `sealer` seals their secrets at rest. */
export function wireOAuth(config: Config, store: Store, sealer: SecretSealer, clock: Clock, log: Logger, stopping: AbortSignal) {
  // The vault keeps tokens only sealed: without a configured key it refuses to store, rather than store them plain.
  const keySealer = config.encryption === undefined ? undefined : sealer;
  const dcr = createDcrRegistry({ store: store.dcr, clock, sealer, settings: config.dcr, stopping });
  const http = {
    timeoutMs: config.oauth.httpTimeoutMs,
    maxBytes: config.oauth.httpMaxBytes,
    dispatcher: guardedDispatcher(upstreamAddressPolicy(config.oauth.devAllowPrivateUpstreams)),
  };
  const vault =
    config.upstreamTokens === undefined
      ? undefined
      : createUpstreamTokenVault({ store: store.upstreamTokens, sealer: keySealer, dcr, clock, http, settings: config.upstreamTokens, stopping });
  const discovery = new IssuerDiscovery(http, config.oauth.discoveryCacheMs, clock);
  const flow = createOAuthFlow({
    dcr,
    states: store.oauthStates,
    discovery,
    allowList: upstreamAllowList(config.oauth.allowedIssuers, discovery),
    idTokens: jwksIdTokenVerifier(jwksKeySourcePool({ fetchLimits: http, clock, log }), clock, config.oauth.idTokenLeewayS),
    sealer,
    vault,
    clock,
    http,
    stateTtlMs: config.oauth.stateTtlMs,
  });
  return {
    dcr,
    flow,
    /** The upstream token vault; absent without an `upstream_tokens` section. */
    vault,
    /** Closes the connections to upstream servers. */
    close: () => http.dispatcher.destroy(),
  };
}
