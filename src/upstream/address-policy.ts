import ipaddr from "ipaddr.js";

/** Which connections to upstream authorization servers may be made, decided on the address actually dialled. */
export interface UpstreamAddressPolicy {
  /** Whether plain http may be used at all (the URL checks limit it to loopback names). */
  readonly plainHttp: boolean;
  /** Why `address` may not be dialled; undefined when it may. */
  refusal(address: string): string | undefined;
}

/**
 * Production: https only, and only to global unicast addresses. ipaddr.js
 * names every special-purpose range (RFC 6890 and successors): loopback,
 * private, carrier-grade NAT, link-local, unique-local, unspecified,
 * multicast, broadcast, documentation, benchmarking, NAT64, 6to4, Teredo…;
 * anything but "unicast" is refused, IPv4-mapped IPv6 judged as the IPv4
 * address it carries. Development (`oauth.dev_allow_private_upstreams`):
 * everything, plain http included.
 */
export function upstreamAddressPolicy(allowPrivate: boolean): UpstreamAddressPolicy {
  return {
    plainHttp: allowPrivate,
    refusal: (address) => (allowPrivate ? undefined : nonPublicRange(address)),
  };
}

/** The special-purpose range `address` lies in ("loopback", "private", …); undefined for a global unicast address. */
export function nonPublicRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return "not an IP address";
  const range = ipaddr.process(address).range();
  return range === "unicast" ? undefined : range;
}
