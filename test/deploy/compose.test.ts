import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "../support/admin-cli.js";
import { checkDeploymentSettings, SECRET_STAND_INS } from "../support/deployment-settings.js";
import { parseDockerfile } from "../support/dockerfile.js";

/**
 * No Docker engine here: the compose file is read as YAML and held against
 * what it wires together — the server's own settings loader, the Dockerfile,
 * and the Envoy configuration it mounts.
 */
const COMPOSE_DIR = join(REPO, "deploy/compose");

// Plain YAML read by path; a loose type keeps the paths readable.
type Node = any;

/** A `${NAME:?message}` reference: the value the operator must supply. */
const REQUIRED_VARIABLE = /^\$\{(\w+):\?[^}]*\}$/;

let services: Record<string, Node>;

/** The host file a service mounts at `target` (bind mounts are relative to the compose file). */
function mountedFile(service: Node, target: string): string {
  const mounts = (service.volumes as string[]).map((volume) => volume.split(":"));
  const mount = mounts.find(([, mountTarget]) => mountTarget === target);
  if (mount === undefined) throw new Error(`nothing is mounted at ${target}`);
  const source = resolve(COMPOSE_DIR, mount[0]!);
  expect(existsSync(source)).toBe(true);
  expect(mount[2]).toBe("ro");
  return source;
}

/** The environment with every required variable replaced by a stand-in of the shape its setting demands. */
function withStandIns(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => {
      const required = REQUIRED_VARIABLE.exec(value);
      if (required === null) return [name, value];
      const standIn = SECRET_STAND_INS[required[1]!];
      if (standIn === undefined) throw new Error(`${name} needs \${${required[1]}}, which the test has no stand-in for`);
      return [name, standIn];
    }),
  );
}

function portcullisSettings() {
  const portcullis = services.portcullis;
  const configPath = portcullis.environment.PORTCULLIS_CONFIG as string;
  const configFile = readFileSync(mountedFile(portcullis, configPath), "utf8");
  // The image's ENV lies under the compose environment, as Docker lays them.
  const runtime = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8")).stages.at(-1)!;
  const imageEnv = Object.assign({}, ...runtime.steps.filter((step) => step.kind === "ENV").map((step) => step.values)) as Record<string, string>;
  const { NODE_ENV: _nodeEnv, ...imageSettings } = imageEnv;
  return checkDeploymentSettings({ env: { ...imageSettings, ...withStandIns(portcullis.environment) }, configFile });
}

describe("the compose example (deploy/compose/compose.yaml)", () => {
  beforeAll(() => {
    services = parse(readFileSync(join(COMPOSE_DIR, "compose.yaml"), "utf8")).services;
  });

  it("runs Envoy, two Portcullis replicas built from this repository's Dockerfile, Redis and an echo upstream", () => {
    expect(Object.keys(services).sort()).toEqual(["app", "envoy", "portcullis", "redis"]);
    const portcullis = services.portcullis;
    expect(resolve(COMPOSE_DIR, portcullis.build.context)).toBe(resolve(REPO));
    expect(existsSync(join(REPO, portcullis.build.dockerfile))).toBe(true);
    expect(portcullis.deploy.replicas).toBe(2);
    expect(portcullis.depends_on.redis.condition).toBe("service_healthy");
    expect(services.envoy.depends_on.portcullis.condition).toBe("service_healthy");
  });

  it("runs Portcullis with a read-only root filesystem, a /tmp of its own, no capabilities and no privilege escalation", () => {
    const portcullis = services.portcullis;
    expect(portcullis.read_only).toBe(true);
    expect(portcullis.tmpfs).toEqual(["/tmp"]);
    expect(portcullis.cap_drop).toEqual(["ALL"]);
    expect(portcullis.security_opt).toEqual(["no-new-privileges:true"]);
  });

  it("takes every secret from the operator's environment, required, never written in the file", () => {
    const environment = services.portcullis.environment as Record<string, string>;
    for (const name of ["REDIS_PASSWORD", "PORTCULLIS_TOKEN_PEPPER", "PORTCULLIS_ROOT_TOKENS"]) expect(environment[name]).toMatch(REQUIRED_VARIABLE);
    expect(services.redis.command.join(" ")).toContain("--requirepass ${REDIS_PASSWORD:?");
  });

  it("sets only variables the server reads, with a configuration its own loader accepts: cleartext on all addresses by choice, Redis by its service name", () => {
    const config = portcullisSettings();
    expect(config.listen.host).toBe("0.0.0.0");
    expect(config.warnings).toEqual([expect.stringContaining("allow_insecure is on")]);
    expect(config.rootTokens).toHaveLength(1);
    const redis = new URL(config.redis!.url!);
    expect(Object.keys(services)).toContain(redis.hostname);
    expect(config.redis!.password).toBe(SECRET_STAND_INS.REDIS_PASSWORD);
  });

  it("has Envoy ask the Portcullis service on its listening port over HTTP/2 for every request, and route to the echo upstream", () => {
    const { listen } = portcullisSettings();
    const envoy = parse(readFileSync(mountedFile(services.envoy, "/etc/envoy/envoy.yaml"), "utf8"));
    const [listener] = envoy.static_resources.listeners;
    const manager = listener.filter_chains[0].filters[0].typed_config;
    const extAuthz = manager.http_filters.find((filter: Node) => filter.name === "envoy.filters.http.ext_authz").typed_config;
    expect(extAuthz.failure_mode_allow).toBe(false);
    const clusters = new Map<string, Node>(envoy.static_resources.clusters.map((cluster: Node) => [cluster.name, cluster]));
    const endpointOf = (name: string) => clusters.get(name).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;

    const authorizer = clusters.get(extAuthz.grpc_service.envoy_grpc.cluster_name);
    expect(endpointOf(authorizer.name)).toEqual({ address: "portcullis", port_value: listen.port });
    expect(authorizer.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config).toHaveProperty("http2_protocol_options");
    expect(authorizer.health_checks[0].http_health_check.path).toBe("/readyz");
    // STRICT_DNS: every replica behind the service name, not the first address only.
    expect(authorizer.type).toBe("STRICT_DNS");

    const upstreams = manager.route_config.virtual_hosts[0].routes.map((route: Node) => route.route.cluster);
    expect(upstreams).toContain("app");
    expect(endpointOf("app")).toEqual({ address: "app", port_value: Number(services.app.environment.HTTP_PORT) });
    const published = (services.envoy.ports as string[]).map((port) => Number(port.split(":").pop()));
    expect(published).toEqual([listener.address.socket_address.port_value]);
  });

  it("starts Envoy only once Portcullis is healthy by the image's own health check, which asks /healthz on the listening port", () => {
    const healthcheck = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8")).healthcheck!;
    expect(services.portcullis.healthcheck).toBeUndefined();
    expect(healthcheck.command.join(" ")).toContain("process.env.PORTCULLIS_LISTEN");
  });
});
