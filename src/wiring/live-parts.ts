import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Decider } from "../decision/decision.js";
import { DecisionEngine } from "../decision/engine.js";
import { jwtCredentials, keySourceSettings, startIssuerKeySource } from "../credentials/jwt/jwt-credentials.js";
import type { JwksKeySource } from "../credentials/jwt/jwks-key-source.js";
import { createEncodedEnvoyCheck, createEnvoyCheck, type EncodedEnvoyCheck, type EnvoyCheck } from "../envoy/envoy-check.js";
import type { Observability } from "../observability/observability.js";
import { InvalidArgumentError } from "../errors.js";
import type { UpstreamTokenVault } from "../oauth/upstream-token-vault.js";
import { Policy, upstreamTokenRules } from "../policy/policy.js";
import { authenticatorOf, type Credentials } from "./credentials.js";
import type { Tracing } from "../tracing/tracing.js";
import type { Reloadable } from "./reloadable.js";

/**
 * Everything one configuration decides with, built completely before it
 * serves: a reload builds a new one beside the old and swaps it in whole.
 */
export interface LiveParts {
  readonly config: Config;
  /** The policy, this configuration's JWT issuers and the stable credentials, in one engine. */
  readonly engine: DecisionEngine;
  /** Envoy's Check on this engine, with this configuration's envoy settings. */
  readonly check: EnvoyCheck;
  /** The same Check answering the encoded CheckResponse, for the lean gRPC path. */
  readonly encodedCheck: EncodedEnvoyCheck;
  /** The external issuers' key sources by their settings, for the next configuration to keep. */
  readonly keySources: ReadonlyMap<string, JwksKeySource>;
}

export interface LivePartsDeps {
  credentials: Credentials;
  observability: Observability;
  clock: Clock;
  log: Logger;
  /** Present when tracing is on: JWKS fetches get spans, Envoy Check reads trace headers. */
  tracing?: Tracing;
  /** The upstream token vault, present with an `upstream_tokens` section. */
  vault?: UpstreamTokenVault;
}

/**
 * Builds the parts of `config`. An issuer whose key-source settings equal
 * one of `previous` keeps that key source, cached keys included, so a reload
 * costs the IdPs nothing and never leaves their tokens without keys. Throws
 * what building throws (an unusable request-issuer key, say), naming the field.
 */
export async function buildLiveParts(config: Config, deps: LivePartsDeps, previous?: LiveParts): Promise<LiveParts> {
  const { credentials, clock, log, tracing } = deps;
  const keySources = new Map<string, JwksKeySource>();
  const jwt = await jwtCredentials({
    config: config.jwt,
    caches: credentials.caches,
    ledger: credentials.ledger,
    clock,
    log,
    tracing,
    keySource(issuer) {
      const settings = keySourceSettings(issuer);
      const keys = previous?.keySources.get(settings) ?? startIssuerKeySource(issuer, clock, log, tracing);
      keySources.set(settings, keys);
      return keys;
    },
  });
  const policy = new Policy(config.policy);
  const asked = upstreamTokenRules(config.policy);
  if (asked.length > 0 && (config.upstreamTokens === undefined || deps.vault === undefined)) {
    throw new InvalidArgumentError("policy.rules", `a rule asks for upstream_token "${asked[0]}", but the upstream_tokens section is missing`);
  }
  const engine = new DecisionEngine(policy, authenticatorOf(jwt, credentials), {
    allowAll: config.devAllowAll,
    singleUse: credentials.ledger,
  });
  const checkDeps = {
    engine: deps.observability.decisions(engine, "envoy_check"),
    settings: { ...config.envoy, upstreamLoginUrls: config.upstreamTokens?.loginUrls },
    traced: tracing !== undefined,
    upstreamTokens: deps.vault && config.upstreamTokens && { vault: deps.vault, recipients: config.upstreamTokens.recipients },
  };
  return { config, engine, check: createEnvoyCheck(checkDeps), encodedCheck: createEncodedEnvoyCheck(checkDeps), keySources };
}

/**
 * The engine as every transport asks it: each question reads the parts in
 * place once and is decided by that engine alone, however a reload swaps
 * them meanwhile.
 */
export function liveEngine(live: Reloadable<Pick<LiveParts, "engine">>): Decider {
  return {
    decide: (request) => live.current().engine.decide(request),
    decideCaller: (question) => live.current().engine.decideCaller(question),
  };
}

/** Envoy's Check with the parts in place when the request came. */
export function liveCheck(live: Reloadable<LiveParts>): EnvoyCheck {
  return (request, headers, signal, caller) => live.current().check(request, headers, signal, caller);
}

/** Envoy's Check answering encoded bytes, with the parts in place when the request came. */
export function liveEncodedCheck(live: Reloadable<LiveParts>): EncodedEnvoyCheck {
  return (request, headers, signal, caller) => live.current().encodedCheck(request, headers, signal, caller);
}
