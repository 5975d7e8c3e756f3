import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config.js";
import { CONTEXT_EXTENSIONS } from "../../src/envoy/check-request.js";
import { Policy } from "../../src/policy/policy.js";
import { parseResource } from "../../src/policy/resource.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE_CONFIG = `${REPO}deploy/portcullis.envoy-example.yaml`;
const EXT_AUTHZ = "envoy.filters.http.ext_authz";

/* eslint-disable @typescript-eslint/no-explicit-any -- walking an untyped Envoy YAML document */
const envoy = parse(readFileSync(`${REPO}deploy/envoy/envoy.yaml`, "utf8")) as any;
const manager = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const routes: any[] = manager.route_config.virtual_hosts.flatMap((host: any) => host.routes);
const clusters = new Map<string, any>(envoy.static_resources.clusters.map((cluster: any) => [cluster.name, cluster]));
const extAuthz = manager.http_filters.find((filter: any) => filter.name === EXT_AUTHZ);
const perRoute = (route: any) => route.typed_per_filter_config?.[EXT_AUTHZ];

const portcullis = loadConfig({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG });
const policy = new Policy(portcullis.policy);

describe("deploy/envoy/envoy.yaml and deploy/portcullis.envoy-example.yaml", () => {
  it("configure ext_authz over gRPC v3 against the portcullis cluster, failing closed", () => {
    expect(extAuthz.typed_config["@type"]).toBe("type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz");
    expect(extAuthz.typed_config.transport_api_version).toBe("V3");
    expect(extAuthz.typed_config.failure_mode_allow).toBe(false);
    expect(extAuthz.typed_config.grpc_service.timeout).toMatch(/^\d+(\.\d+)?s$/);
    expect(manager.http_filters.at(-1).name).toBe("envoy.filters.http.router");
  });

  it("point the portcullis cluster over HTTP/2 at the port Portcullis listens on", () => {
    const cluster = clusters.get(extAuthz.typed_config.grpc_service.envoy_grpc.cluster_name);
    expect(cluster?.name).toBe("portcullis");
    const options = cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    expect(options.explicit_http_config).toHaveProperty("http2_protocol_options");
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address.port_value).toBe(portcullis.listen.port);
    expect(cluster.health_checks[0].http_health_check.path).toBe("/readyz");
  });

  it("send every route to a cluster that exists and configure ext_authz per route under the filter's own name", () => {
    for (const route of routes) {
      expect(clusters.has(route.route.cluster)).toBe(true);
      const keys = Object.keys(route.typed_per_filter_config ?? {});
      expect(keys.every((key) => key === EXT_AUTHZ)).toBe(true);
    }
  });

  it("use only context extensions Portcullis reads, naming rules the policy has for the paths they route", () => {
    const withExtensions = routes.filter((route) => perRoute(route)?.check_settings?.context_extensions);
    expect(withExtensions.length).toBeGreaterThan(0);
    const known: string[] = Object.values(CONTEXT_EXTENSIONS);
    for (const route of withExtensions) {
      const extensions: Record<string, string> = perRoute(route).check_settings.context_extensions;
      for (const key of Object.keys(extensions)) expect(known).toContain(key);
      const ruleName = extensions[CONTEXT_EXTENSIONS.rule];
      if (ruleName !== undefined) {
        expect(policy.ruleNamed(ruleName)).toBeDefined();
        const routed = parseResource(`GET ${route.match.prefix ?? route.match.path}`);
        expect("resource" in routed && policy.requirementFor(routed.resource)).toMatchObject({ ruleName });
      }
      const scope = extensions[CONTEXT_EXTENSIONS.requiredScope];
      if (scope !== undefined) expect(scope.trim()).not.toBe("");
    }
  });

  it("strip identity headers a client sends on routes that skip ext_authz, and refuse underscore spellings", () => {
    const identityHeaders = Object.values(portcullis.envoy.identityHeaders);
    const skipped = routes.filter((route) => perRoute(route)?.disabled === true);
    expect(skipped.length).toBeGreaterThan(0);
    for (const route of skipped) expect(route.request_headers_to_remove).toEqual(expect.arrayContaining(identityHeaders));
    // Removing them where ext_authz runs would remove the identity it adds.
    for (const route of routes.filter((candidate) => perRoute(candidate)?.disabled !== true)) {
      expect(route.request_headers_to_remove ?? []).toEqual([]);
    }
    expect(manager.common_http_protocol_options.headers_with_underscores_action).toBe("REJECT_REQUEST");
  });

  it("skip ext_authz only on paths Portcullis itself treats as public", () => {
    const skipped = routes.filter((route) => perRoute(route)?.disabled === true);
    expect(skipped.map((route) => route.match.path)).toEqual(["/health", "/.well-known/oauth-protected-resource"]);
    const health = parseResource("GET /health");
    expect("resource" in health && policy.requirementFor(health.resource)).toMatchObject({ public: true });
    const metadata = skipped.find((route) => route.match.path === "/.well-known/oauth-protected-resource");
    expect(metadata.route.cluster).toBe("portcullis");
    expect(new URL(portcullis.envoy.resourceMetadataUrl!).pathname).toBe(metadata.match.path);
    expect(portcullis.protectedResource?.resource).toBe(new URL(portcullis.envoy.resourceMetadataUrl!).origin);
  });

  it("strip the bearer token before the upstream and pass the identity in the documented headers", () => {
    expect(portcullis.envoy.removeAuthorization).toBe(true);
    expect(portcullis.envoy.identityHeaders.subject).toBe("x-auth-subject");
  });
});
