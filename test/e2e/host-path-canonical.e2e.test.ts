import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { AuthorizationService, Decision, Denial, type AuthorizeResponse } from "../../gen/portcullis/v1/authorization_pb.js";
import { Authenticator } from "../../src/credentials/authenticator.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { Policy } from "../../src/policy/policy.js";
import { createClients } from "../support/clients.js";
import { createEnvoyClient, metadataOf, type EnvoyClient, type HttpAttributes, type WireCheckResponse } from "../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { HOST_PATH_POLICY, reachesProtected, requestArbitrary } from "../support/url-readings.js";

const ADMIN = "admin.example.com";

/** Host spellings URL parsers read as admin.example.com (or as nothing), several per class. */
const MALFORMED_HOSTS: [string, string[]][] = [
  ["an empty port", [`${ADMIN}:`, "Admin.Example.com:", `${ADMIN}.:`]],
  ["userinfo", [`evil@${ADMIN}`, `u:p@${ADMIN}`, `@${ADMIN}`, `${ADMIN}@${ADMIN}`]],
  ["a fullwidth letter", [`\uff41dmin.example.com`, "admin.\uff45xample.com", "\uff21\uff24\uff2d\uff29\uff2e.example.com"]],
  ["an ideographic or fullwidth full stop", ["admin\u3002example\u3002com", "admin\uff0eexample\uff0ecom", "admin\uff61example\uff61com", "admin.example\u3002com"]],
  ["surrounding whitespace", [`${ADMIN} `, ` ${ADMIN}`, `${ADMIN}\u00a0`, `${ADMIN}\u3000`]],
  ["a NUL", [`${ADMIN}\u0000`, `${ADMIN}\u0000.evil.com`, `\u0000${ADMIN}`]],
  ["a tab or line break", [`${ADMIN}\t`, "admin\t.example.com", `${ADMIN}\r\n`]],
  ["a percent escape", ["%61dmin.example.com", "admin%2eexample.com", `${ADMIN}%00`, "admin.example.com%3a443"]],
  ["a backslash", [`${ADMIN}\\`, `evil.com\\@${ADMIN}`, `${ADMIN}\\x`]],
  ["a zero-width character", ["ad\u200dmin.example.com", `${ADMIN}\u200d`, `\u200b${ADMIN}`, "admin.exa\u200cmple.com"]],
  ["a soft hyphen", ["ad\u00admin.example.com", "admin.exam\u00adple.com", `${ADMIN}\u00ad`]],
  ["a port out of range or not a number", [`${ADMIN}:0`, `${ADMIN}:65536`, `${ADMIN}:99999`, `${ADMIN}:https`, `${ADMIN}:44a`, `${ADMIN}:+443`]],
  ["an empty label", ["admin..example.com", `.${ADMIN}`, `${ADMIN}..`]],
  ["an over-long label", [`${"a".repeat(64)}.example.com`, `admin.${"e".repeat(64)}.com`]],
  ["a non-canonical IPv4 address", ["127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "127.0.0.01"]],
];

/** Path spellings that a double decoder, an overlong-tolerant decoder or NFKC reads as climbing out of /public/. */
const REFUSED_PATHS: [string, string[]][] = [
  ["double-encoded dots", ["/public/%252e%252e/admin", "/public/%252E%252E/admin", "/public/%252e./admin", "/public/..%252fadmin"]],
  ["a double-encoded escape spelt with encoded digits", ["/public/%25%32%65%25%32%65/admin", "/public/%25%32%45./admin"]],
  ["overlong UTF-8", ["/public/%c0%ae%c0%ae/admin", "/public/..%c0%af../admin", "/public/%e0%80%ae%e0%80%ae/admin", "/public/..%e0%80%afadmin"]],
  ["a lone byte", ["/public/%ff/admin", "/public/..%ff/admin", "/public/%fe%ff"]],
  ["fullwidth dots", ["/public/\uff0e\uff0e/admin", "/public/%EF%BC%8E%EF%BC%8E/admin", "/public/%ef%bc%8e./admin", "/public/.\uff0e/admin"]],
  ["one- and two-dot leaders", ["/public/\u2024\u2024/admin", "/public/%E2%80%A4%E2%80%A4/admin", "/public/\u2025/admin", "/public/%E2%80%A5/admin"]],
  ["a fullwidth solidus", ["/public/..\uff0fadmin", "/public/..%EF%BC%8Fadmin", "/public/..\uff3cadmin"]],
  ["a division slash", ["/public/..\u2215admin", "/public/..%E2%88%95admin", "/public/\u2025\u2215admin"]],
  ["a small full stop", ["/public/\ufe52\ufe52/admin", "/public/%EF%B9%92%EF%B9%92/admin", "/public/\ufe52./admin"]],
];

type Outcome = string;

function outcomeOfAuthorize(response: AuthorizeResponse): Outcome {
  if (response.decision === Decision.ALLOW) return `allow:${response.reason}`;
  return `${response.denial === Denial.UNAUTHENTICATED ? "unauthenticated" : "forbidden"}:${response.reason}`;
}

function outcomeOfCheck(response: WireCheckResponse): Outcome {
  const reason = metadataOf(response).reason;
  if (response.status?.code === 0) return `allow:${reason}`;
  return `${response.status?.code === 16 ? "unauthenticated" : "forbidden"}:${reason}`;
}

describe("hosts and paths read one way by Authorize and Envoy Check", () => {
  const root = `pcl_root_${randomBytes(24).toString("hex")}`;
  const engine = new DecisionEngine(new Policy(HOST_PATH_POLICY), new Authenticator([]));
  let dir: string;
  let server: InProcessPortcullis;
  let envoy: EnvoyClient;
  let lean: Client<typeof AuthorizationService>;
  let connect: Client<typeof AuthorizationService>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portcullis-canonical-"));
    const config = join(dir, "portcullis.yaml");
    await writeFile(config, stringify({ policy: HOST_PATH_POLICY }));
    server = await startInProcess({ PORTCULLIS_CONFIG: config, PORTCULLIS_ROOT_TOKENS: root });
    envoy = createEnvoyClient(server.url);
    // gRPC over HTTP/2 takes the lean path; the Connect protocol over HTTP/1.1 goes through connect-node.
    lean = createClients(server.url).authorization;
    connect = createClient(AuthorizationService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The outcome through Authorize (both paths) and Check, which must all agree. */
  async function decideEverywhere(method: string, path: string, host: string, token?: string): Promise<Outcome> {
    const authorization = token === undefined ? "" : `Bearer ${token}`;
    const request = { authorization, resource: `${method} ${path}`, host };
    const check: HttpAttributes = { method, path, host, headers: token === undefined ? {} : { authorization } };
    const outcomes = [
      outcomeOfAuthorize(await lean.authorize(request)),
      outcomeOfAuthorize(await connect.authorize(request)),
      outcomeOfCheck(await envoy.check(check)),
    ];
    expect(new Set(outcomes).size, `${JSON.stringify({ method, path, host })}: ${outcomes.join(" / ")}`).toBe(1);
    return outcomes[0]!;
  }

  it.each(MALFORMED_HOSTS)("denies a host with %s where the host rule would apply, with bad_host", async (_class, hosts) => {
    for (const host of hosts) {
      expect([host, await decideEverywhere("POST", "/api/libraries", host)]).toEqual([host, "forbidden:bad_host"]);
      expect([host, await decideEverywhere("POST", "/api/libraries", host, root)]).toEqual([host, "forbidden:bad_host"]);
    }
  });

  it("never consults a malformed host where no host rule would apply", async () => {
    for (const host of [`evil@${ADMIN}`, `${ADMIN}:`, "admin\u3002example\u3002com"]) {
      expect(await decideEverywhere("GET", "/public/readme", host)).toBe("allow:public_resource");
      expect(await decideEverywhere("GET", "/admin/users", host)).toBe("unauthenticated:missing_credential");
    }
  });

  it("matches plain spellings of the rule's host as before, and leaves other hosts to the public rule", async () => {
    for (const host of [ADMIN, "Admin.Example.com", `${ADMIN}:8443`, `${ADMIN}.`, "ADMIN.EXAMPLE.COM.:443"]) {
      expect([host, await decideEverywhere("POST", "/api/libraries", host)]).toEqual([host, "unauthenticated:missing_credential"]);
      expect([host, await decideEverywhere("POST", "/api/libraries", host, root)]).toEqual([host, "allow:ok"]);
    }
    for (const host of ["api.example.com", "api.example.com:8443", "10.0.0.1", "[::1]:8080", "xn--admn-0qa.example.com"]) {
      expect([host, await decideEverywhere("POST", "/api/libraries", host)]).toEqual([host, "allow:public_resource"]);
    }
    expect(await decideEverywhere("POST", "/api/libraries", "")).toBe("forbidden:host_required");
  });

  it.each(REFUSED_PATHS)("denies a path with %s, however spelt, with bad_resource", async (_class, paths) => {
    for (const path of paths) {
      for (const method of ["GET", "POST"]) {
        expect([path, await decideEverywhere(method, path, "api.example.com")]).toEqual([path, "forbidden:bad_resource"]);
      }
    }
  });

  it("matches plain paths, and their percent-encoded spellings, as before", async () => {
    for (const path of ["/public/readme", "/public/", "/public/docs/a.b..c", "/public/caf%C3%A9", "/public/caf%c3%a9", "/public/café", "/public/a%20b"]) {
      expect([path, await decideEverywhere("GET", path, "api.example.com")]).toEqual([path, "allow:public_resource"]);
    }
    for (const path of ["/admin", "/admin/", "/admin/users"]) {
      expect([path, await decideEverywhere("GET", path, "api.example.com")]).toEqual([path, "unauthenticated:missing_credential"]);
    }
  });

  it("denies tool names a decoder would read differently, through both transports", async () => {
    for (const name of ["%61dmin", "a%2fb", "ns/../admin"]) {
      const authorize = await lean.authorize({ authorization: "", resource: `tool:${name}` });
      const check = await envoy.check({ method: "POST", path: "/mcp", contextExtensions: { tool: name } });
      expect([name, outcomeOfAuthorize(authorize), outcomeOfCheck(check)]).toEqual([name, "forbidden:bad_resource", "forbidden:bad_resource"]);
    }
  });

  it("denies, where the host rule would apply, a CheckRequest whose host and :authority disagree", async () => {
    const post = { method: "POST", path: "/api/libraries" };
    const disagreeing: HttpAttributes[] = [
      { ...post, host: "api.example.com", headers: { ":authority": ADMIN } },
      { ...post, host: ADMIN, headers: { ":authority": "api.example.com" } },
      { ...post, host: ADMIN, headers: { ":authority": "Admin.Example.com" } },
      { ...post, host: ADMIN, headers: { host: "api.example.com" } },
    ];
    for (const attributes of disagreeing) {
      expect([attributes, outcomeOfCheck(await envoy.check(attributes))]).toEqual([attributes, "forbidden:bad_host"]);
    }
    const hostOnlyInAuthority = await envoy.checkRaw({ attributes: { request: { http: { ...post, headers: { ":authority": ADMIN } } } } });
    expect(outcomeOfCheck(hostOnlyInAuthority)).toBe("forbidden:bad_host");
    const agreeing = await envoy.check({ ...post, host: "api.example.com", headers: { ":authority": "api.example.com", host: "api.example.com" } });
    expect(outcomeOfCheck(agreeing)).toBe("allow:public_resource");
  });

  it("denies a CheckRequest whose method or path disagrees with its :method or :path pseudo-header", async () => {
    const disagreeing: HttpAttributes[] = [
      { method: "GET", path: "/public/docs", headers: { ":path": "/api/libraries" } },
      { method: "GET", path: "/public/docs", headers: { ":path": "/public/docs?x=1" } },
      { method: "GET", path: "/public/docs", headers: { ":method": "POST" } },
      { method: "GET", path: "/public/docs", headers: { ":method": "get" } },
    ];
    for (const attributes of disagreeing) {
      expect([attributes, outcomeOfCheck(await envoy.check(attributes))]).toEqual([attributes, "forbidden:bad_resource"]);
    }
    const agreeing = await envoy.check({ method: "GET", path: "/public/docs", headers: { ":method": "GET", ":path": "/public/docs" } });
    expect(outcomeOfCheck(agreeing)).toBe("allow:public_resource");
  });

  it("never allows through either transport what another reading routes to a guarded target, and decides as the engine does", async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (request) => {
        const outcome = await decideEverywhere(request.method, request.path, request.host);
        const local = await engine.decide({ authorization: "", resource: `${request.method} ${request.path}`, host: request.host });
        expect(outcome).toBe(`${local.allowed ? "allow" : local.denial}:${local.reason}`);
        if (reachesProtected(request)) expect({ request, outcome }).toEqual({ request, outcome: expect.not.stringMatching(/^allow:/) });
      }),
      { numRuns: 60 },
    );
  });
});
