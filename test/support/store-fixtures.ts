import { randomBytes } from "node:crypto";
import type { StoredToken } from "../../src/model/token.js";
import type { Invalidation, Store } from "../../src/store/store.js";
import { eventually } from "./eventually.js";

/** A minted token's record under a random id and hash; `fields` override the rest. */
export function aStoredToken(fields: Partial<StoredToken> = {}): StoredToken {
  return {
    id: `tok_${randomBytes(11).toString("hex")}`,
    hash: randomBytes(32).toString("hex"),
    scopes: ["kafka:read"],
    name: "stored",
    allowedLibraries: [],
    allowedTools: [],
    source: "minted",
    createdAt: 1_700_000_000_000,
    ...fields,
  };
}

/** Everything `store` announces from now on, once its feed is healthy. */
export async function heardInvalidations(store: Store): Promise<{ events: Invalidation[]; stop: () => void }> {
  const events: Invalidation[] = [];
  let healthy = false;
  const stop = store.watchInvalidations((event) => {
    if (event.kind === "health") healthy = event.healthy;
    else events.push(event);
  });
  await eventually(async () => healthy, 5000);
  return { events, stop };
}
