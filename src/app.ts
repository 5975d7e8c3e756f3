import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { callerGate } from "./decision/caller-gate.js";
import { DecisionEngine } from "./decision/engine.js";
import { listen, type Listener } from "./http/listener.js";
import type { DecisionTransport } from "./observability/decision-recorder.js";
import { decisionLogWarnings } from "./observability/log-settings.js";
import { createObservability } from "./observability/observability.js";
import { Policy } from "./policy/policy.js";
import { openStore } from "./store/open-store.js";
import { wireAdministration } from "./wiring/administration.js";
import { wireCredentials } from "./wiring/credentials.js";
import { wireHttpHandler } from "./wiring/http-handler.js";
import { wireOAuth } from "./wiring/oauth.js";
import { TokenAdminService } from "../gen/portcullis/v1/token_admin_pb.js";

export interface RunningPortcullis {
  readonly listener: Listener;
  /**
   * Settles when the server can no longer serve safely (the embedded store
   * lost its data-dir lock and refuses writes); the owner should stop it.
   */
  readonly failure: Promise<Error>;
  /** Stops accepting, finishes in-flight calls, closes the store. */
  stop(): Promise<void>;
}

/** Wires configuration into a running server, one part after the other. */
export async function startPortcullis(config: Config, log: Logger, clock: Clock = systemClock): Promise<RunningPortcullis> {
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  const policy = new Policy(config.policy);
  const externalIssuers = config.jwt.issuers.length + config.jwt.requestIssuers.length;
  for (const warning of decisionLogWarnings(config.decisionLog, externalIssuers)) log.warn(`decision log: ${warning}`);
  const observability = createObservability(
    { metricsEnabled: config.metricsEnabled, adminServices: [TokenAdminService], decisionLog: config.decisionLog },
    log,
  );
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((settle) => (reportFailure = settle));
  const store = observability.store(await openStore(config, reportFailure, (message) => log.warn(message)));
  if (store.backend === "embedded") {
    log.info({ dataDir: config.dataDir }, "store: embedded (data file); serves one replica only");
  } else {
    log.info({ prefix: config.redis?.prefix }, "store: redis; shared by every replica");
  }
  try {
    const credentials = await wireCredentials(config, store, clock, log);
    if (config.devAllowAll) {
      log.warn("DEV MODE: PORTCULLIS_DEV_ALLOW_ALL is set, every request is ALLOWED. Never use this in production.");
    }
    const engine = new DecisionEngine(policy, credentials.authenticator, { allowAll: config.devAllowAll, singleUse: credentials.ledger });
    const decisions = (transport: DecisionTransport) => observability.decisions(engine, transport);
    const administration = wireAdministration(config, store, credentials, callerGate(decisions("token_admin")), clock);
    const oauth = wireOAuth(config, store, clock, log);
    const handler = wireHttpHandler({ config, decisions, administration, oauth, store, observability, log });
    const listener = await listen(config.listen.host, config.listen.port, handler, config.http);
    log.info({ address: `${listener.address.address}:${listener.address.port}` }, "portcullis listening (h2c and HTTP/1.1)");
    return {
      listener,
      failure,
      async stop() {
        await listener.close(config.shutdownGraceMs);
        await oauth.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
