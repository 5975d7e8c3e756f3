import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { configFileWriter, refusal } from "../support/config-files.js";

const configFile = configFileWriter();
const TLS_ENV = { PORTCULLIS_TLS_CERT_FILE: "/tls/tls.crt", PORTCULLIS_TLS_KEY_FILE: "/tls/tls.key" };
const RULES = { rules: [{ services: ["portcullis.v1.TokenAdminService"], identities: ["dns:OPS.example.org", "spiffe://example.org/ops"] }] };

describe("the tls, allow_insecure and caller_identity settings", () => {
  it("leave TLS off by default, and read the files and minimum version from the file or the environment", () => {
    expect(loadConfig({}).tls).toBeUndefined();
    expect(loadConfig(TLS_ENV).tls).toEqual({ certFile: "/tls/tls.crt", keyFile: "/tls/tls.key", clientCaFile: undefined, minVersion: "TLSv1.2" });
    const file = configFile("tls: { cert_file: /a.crt, key_file: /a.key, client_ca_file: /ca.crt, min_version: TLSv1.3 }\n");
    expect(loadConfig({ PORTCULLIS_CONFIG: file }).tls).toEqual({ certFile: "/a.crt", keyFile: "/a.key", clientCaFile: "/ca.crt", minVersion: "TLSv1.3" });
  });

  it("refuse a TLS version other than 1.2 or 1.3, and a tls section without its key", () => {
    expect(refusal({ ...TLS_ENV, PORTCULLIS_TLS_MIN_VERSION: "TLSv1.1" }).message).toBe("PORTCULLIS_TLS_MIN_VERSION: must be one of TLSv1.2, TLSv1.3");
    expect(refusal({ PORTCULLIS_CONFIG: configFile("tls: { cert_file: /a.crt }\n") }).field).toBe("tls.key_file");
  });

  it.each(["127.0.0.1:8080", "127.9.9.9:8080", "[::1]:8080", "localhost:8080", "[::ffff:127.0.0.1]:8080"])(
    "let cleartext listen on the loopback address %s without a word",
    (listen) => {
      expect(loadConfig({ PORTCULLIS_LISTEN: listen }).warnings).toEqual([]);
    },
  );

  it.each([":8080", "0.0.0.0:8080", "[::]:8080", "10.1.2.3:8080", "portcullis.internal:8080"])(
    "refuse cleartext on %s, which others can reach, unless allow_insecure is on; then warn at every start",
    (listen) => {
      const refused = refusal({ PORTCULLIS_LISTEN: listen });
      expect(refused.field).toBe("PORTCULLIS_LISTEN");
      expect(refused.message).toMatch(/is not a loopback address: configure tls .* or set allow_insecure: true/);
      expect(loadConfig({ PORTCULLIS_LISTEN: listen, PORTCULLIS_ALLOW_INSECURE: "true" }).warnings).toEqual([
        expect.stringMatching(/^allow_insecure is on: listening in cleartext on .*; bearer tokens cross the network unencrypted/),
      ]);
      expect(loadConfig({ PORTCULLIS_LISTEN: listen, ...TLS_ENV }).warnings).toEqual([]);
    },
  );

  it("refuse caller identity without a client CA, since no caller would have a verified certificate", () => {
    const refused = refusal({ ...TLS_ENV, PORTCULLIS_CALLER_IDENTITY: JSON.stringify(RULES) });
    expect(refused.message).toMatch(/^PORTCULLIS_CALLER_IDENTITY: caller_identity: needs mTLS: set tls.cert_file, tls.key_file and tls.client_ca_file/);
    expect(refusal({ PORTCULLIS_CONFIG: configFile(`caller_identity: ${JSON.stringify(RULES)}\n`) }).field).toBe("caller_identity");
  });

  it("read caller-identity rules with DNS names in lower case and URIs as written", () => {
    const config = loadConfig({ ...TLS_ENV, PORTCULLIS_TLS_CLIENT_CA_FILE: "/tls/ca.crt", PORTCULLIS_CALLER_IDENTITY: JSON.stringify(RULES) });
    expect(config.callerIdentity).toEqual([{ services: ["portcullis.v1.TokenAdminService"], identities: ["dns:ops.example.org", "spiffe://example.org/ops"] }]);
  });

  it.each([
    ["an identity that is neither a URI, dns: nor *", { rules: [{ services: ["x.Y"], identities: ["gateway"] }] }, "caller_identity.rules[0].identities[0]"],
    ["a rule without services", { rules: [{ identities: ["*"] }] }, "caller_identity.rules[0].services"],
    ["an empty rule list", { rules: [] }, "caller_identity.rules"],
    ["a misspelt key", { rules: [{ services: ["x.Y"], identity: ["*"] }] }, "caller_identity.rules[0].identity"],
  ])("refuse %s, naming the key", (_case, value, field) => {
    const file = configFile(`tls: { cert_file: /a, key_file: /b, client_ca_file: /c }\ncaller_identity: ${JSON.stringify(value)}\n`);
    expect(refusal({ PORTCULLIS_CONFIG: file }).field).toBe(field);
  });

  it("take redis.tls_ca_file with a rediss:// url only", () => {
    expect(loadConfig({ REDIS_URL: "rediss://cache:6380", PORTCULLIS_REDIS_TLS_CA_FILE: "/ca.crt" }).redis?.tlsCaFile).toBe("/ca.crt");
    expect(refusal({ REDIS_URL: "redis://cache:6379", PORTCULLIS_REDIS_TLS_CA_FILE: "/ca.crt" }).message).toBe(
      "PORTCULLIS_REDIS_TLS_CA_FILE: needs a rediss:// url (TLS); redis.url is redis://",
    );
    expect(refusal({ PORTCULLIS_CONFIG: configFile("redis: { url: redis://cache:6379, tls_ca_file: /ca.crt }\n") }).field).toBe("redis.tls_ca_file");
  });
});
