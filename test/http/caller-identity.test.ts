import { describe, expect, it } from "vitest";
import { InvalidArgumentError, PermissionDeniedError } from "../../src/errors.js";
import { ALWAYS_OPEN_SERVICES, callerIdentityGate } from "../../src/http/caller-identity.js";
import { namesOf, type PeerIdentity } from "../../src/http/peer-identity.js";

const SERVICES = ["portcullis.v1.AuthorizationService", "portcullis.v1.TokenAdminService", "envoy.service.auth.v3.Authorization"];
const peer = (...names: string[]): PeerIdentity => ({ names, fingerprint256: "AA:BB" });

describe("a client certificate's names", () => {
  it("are its URI SANs as written and its DNS SANs as dns:<lower case>, other kinds left out", () => {
    expect(namesOf("DNS:GW.example, IP Address:127.0.0.1, URI:spiffe://example.org/ns/edge/sa/envoy, email:a@b.example")).toEqual([
      "dns:gw.example",
      "spiffe://example.org/ns/edge/sa/envoy",
    ]);
  });

  it("read a quoted value as the JSON string node writes for one with a comma", () => {
    expect(namesOf('URI:"spiffe://example.org/a,b", DNS:x.example')).toEqual(["spiffe://example.org/a,b", "dns:x.example"]);
  });

  it.each([undefined, "", 'URI:"spiffe://unterminated', "not a SAN list"])("are none at all for text that cannot be read (%s)", (text) => {
    expect(namesOf(text)).toEqual([]);
  });
});

describe("the caller-identity gate", () => {
  const refusals: string[] = [];
  const gate = callerIdentityGate(
    [
      { services: ["portcullis.v1.TokenAdminService"], identities: ["dns:ops.example"] },
      { services: ["envoy.service.auth.v3.Authorization", "portcullis.v1.TokenAdminService"], identities: ["spiffe://example.org/gw"] },
    ],
    { services: SERVICES, refused: (service) => refusals.push(service) },
  );

  it("admits a certificate one of whose names a rule for the service lists, adding up every rule naming it", () => {
    expect(() => gate("portcullis.v1.TokenAdminService", peer("dns:ops.example"))).not.toThrow();
    expect(() => gate("portcullis.v1.TokenAdminService", peer("dns:other.example", "spiffe://example.org/gw"))).not.toThrow();
    expect(() => gate("envoy.service.auth.v3.Authorization", peer("spiffe://example.org/gw"))).not.toThrow();
  });

  it("refuses anyone else with caller_not_allowed, and reports the service", () => {
    refusals.length = 0;
    expect(() => gate("envoy.service.auth.v3.Authorization", peer("dns:ops.example"))).toThrow(
      new PermissionDeniedError("caller_not_allowed: this client certificate may not call envoy.service.auth.v3.Authorization"),
    );
    expect(() => gate("portcullis.v1.TokenAdminService", undefined)).toThrow(PermissionDeniedError);
    expect(refusals).toEqual(["envoy.service.auth.v3.Authorization", "portcullis.v1.TokenAdminService"]);
  });

  it("refuses a service no rule names to every certificate (fail closed)", () => {
    expect(() => gate("portcullis.v1.AuthorizationService", peer("dns:ops.example", "spiffe://example.org/gw"))).toThrow(/^caller_not_allowed/);
  });

  it("leaves health and reflection open to every client that passed the handshake", () => {
    for (const service of ALWAYS_OPEN_SERVICES) expect(() => gate(service, peer())).not.toThrow();
  });

  it("admits any verified certificate to a service whose rule lists *, but never a connection without one", () => {
    const open = callerIdentityGate([{ services: ["portcullis.v1.AuthorizationService"], identities: ["*"] }], { services: SERVICES, refused: () => undefined });
    expect(() => open("portcullis.v1.AuthorizationService", peer())).not.toThrow();
    expect(() => open("portcullis.v1.AuthorizationService", undefined)).toThrow(/^caller_not_allowed/);
  });

  it("refuses to be built from a rule naming a service the server does not route, suggesting the closest", () => {
    const build = () =>
      callerIdentityGate([{ services: ["portcullis.v1.TokenAdminServce"], identities: ["*"] }], { services: SERVICES, refused: () => undefined });
    expect(build).toThrow(InvalidArgumentError);
    expect(build).toThrow('caller_identity.rules[0].services[0]: unknown service "portcullis.v1.TokenAdminServce" (did you mean portcullis.v1.TokenAdminService?)');
  });
});
