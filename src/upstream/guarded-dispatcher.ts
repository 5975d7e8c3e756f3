import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector } from "undici";
import type { UpstreamAddressPolicy } from "./address-policy.js";

/** Resolves a name to every address it has, as `dns.lookup` with `all: true` does. */
export type ResolveAll = (hostname: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolveAll: ResolveAll = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/** A connection the address policy refused; nothing was sent. */
export class AddressRefusedError extends Error {
  readonly code = "UPSTREAM_ADDRESS_REFUSED";
}

/**
 * An undici dispatcher whose connections obey `policy`. The check runs on
 * the addresses the name resolves to, inside the lookup the socket connects
 * with: the address checked is the address dialled, so a name that
 * resolves elsewhere a moment later (DNS rebinding) gains nothing. A name
 * with any refused address is refused whole. Literal IP hosts, which the
 * socket does not look up, are checked before connecting.
 */
export function guardedDispatcher(policy: UpstreamAddressPolicy, resolveAll: ResolveAll = systemResolveAll): Agent {
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolveAll(hostname, (error, addresses) => {
      if (error !== null) return callback(error, "", 0);
      const refused = addresses.find((entry) => policy.refusal(entry.address) !== undefined);
      if (refused !== undefined) return callback(refusedError(refused.address, policy), "", 0);
      const usable = options.family === 4 || options.family === 6 ? addresses.filter((entry) => entry.family === options.family) : addresses;
      if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no usable address`), { code: "ENOTFOUND" }), "", 0);
      // net asks for every address when it races IPv4 and IPv6 (autoSelectFamily), for one otherwise.
      if (options.all === true) return (callback as unknown as (error: null, all: LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
  const connector = buildConnector({ lookup });
  return new Agent({
    connect(options, callback) {
      if (options.protocol === "http:" && !policy.plainHttp) {
        return callback(new AddressRefusedError("plain http is refused without oauth.dev_allow_private_upstreams"), null);
      }
      if (isIP(options.hostname) !== 0 && policy.refusal(options.hostname) !== undefined) {
        return callback(refusedError(options.hostname, policy), null);
      }
      connector(options, callback);
    },
  });
}

function refusedError(address: string, policy: UpstreamAddressPolicy): AddressRefusedError {
  return new AddressRefusedError(`${address} is a ${policy.refusal(address)} address`);
}
