import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, join, posix } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { REPO, runProgram } from "../support/admin-cli.js";
import { checkDeploymentSettings, SECRET_STAND_INS } from "../support/deployment-settings.js";
import { parseDockerfile } from "../support/dockerfile.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { closedPort } from "../support/probe-targets.js";
import { createTestPki, type TestPki } from "../support/tls-certificates.js";

const run = promisify(execFile);

// Rendered manifests are checked by the shape of plain YAML; a loose type keeps the paths readable.
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

const VARIANTS = ["base", "overlays/redis-sentinel", "overlays/tls-cert-manager"] as const;
const IMAGE_USER = (() => {
  const runtime = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8")).stages.at(-1)!;
  const users = runtime.steps.filter((step) => step.kind === "USER");
  return users[users.length - 1] as { uid: number; gid: number };
})();

/** `kubectl kustomize` renders offline: no cluster is asked. */
async function render(variant: string): Promise<Manifest[]> {
  const { stdout } = await run("kubectl", ["kustomize", join(REPO, "deploy/kubernetes", variant)], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((document) => document.toJS() as Manifest);
}

function only(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found.map((manifest) => manifest.metadata.name)).toHaveLength(1);
  return found[0]!;
}

function containerOf(deployment: Manifest) {
  const containers = deployment.spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

function envOf(deployment: Manifest): EnvVar[] {
  return containerOf(deployment).env as EnvVar[];
}

function literal(deployment: Manifest, name: string): string | undefined {
  return envOf(deployment).find((variable) => variable.name === name)?.value;
}

function listenPort(deployment: Manifest): number {
  return Number(literal(deployment, "PORTCULLIS_LISTEN")!.split(":").pop());
}

/** The container's environment with every Secret reference replaced by a stand-in of the right shape. */
function settingsEnv(deployment: Manifest): Record<string, string> {
  return Object.fromEntries(
    envOf(deployment).map((variable) => {
      if (variable.value !== undefined) return [variable.name, variable.value];
      const standIn = SECRET_STAND_INS[variable.name];
      if (standIn === undefined) throw new Error(`${variable.name} comes from a Secret the test has no stand-in for`);
      return [variable.name, standIn];
    }),
  );
}

describe.each(VARIANTS)("the Kubernetes manifests of %s, as kubectl kustomize renders them", (variant) => {
  let manifests: Manifest[];
  let deployment: Manifest;
  beforeAll(async () => {
    manifests = await render(variant);
    deployment = only(manifests, "Deployment");
  });

  it("run 3 replicas as the image's non-root user, read-only root filesystem, no capabilities, RuntimeDefault seccomp, spread over zones and nodes", () => {
    expect(deployment.spec.replicas).toBe(3);
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: IMAGE_USER.uid,
      runAsGroup: IMAGE_USER.gid,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(containerOf(deployment).securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.topologySpreadConstraints.map((constraint: { topologyKey: string }) => constraint.topologyKey).sort()).toEqual([
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
    ]);
    expect(containerOf(deployment).resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    // Writable: only the data volume and /tmp, both emptyDir.
    const writable = containerOf(deployment).volumeMounts.filter((mount: { readOnly?: boolean }) => mount.readOnly !== true);
    expect(writable.map((mount: { mountPath: string }) => mount.mountPath).sort()).toEqual(["/tmp", "/var/lib/portcullis"]);
  });

  it("name one gRPC port, the one the server listens on, in the container, the Service, the NetworkPolicy and the ServiceMonitor", () => {
    const port = listenPort(deployment);
    expect(containerOf(deployment).ports).toEqual([{ name: "grpc", containerPort: port, protocol: "TCP" }]);
    const service = only(manifests, "Service");
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0]).toMatchObject({ name: "grpc", targetPort: "grpc" });
    expect(service.spec.ports[0].appProtocol).toBe(variant.includes("tls") ? "https" : "kubernetes.io/h2c");
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(only(manifests, "NetworkPolicy").spec.ingress[0].ports).toEqual([{ port: "grpc", protocol: "TCP" }]);
    const [endpoint] = only(manifests, "ServiceMonitor").spec.endpoints;
    expect(endpoint).toMatchObject({ port: "grpc", path: "/metrics" });
  });

  it("probe liveness on /healthz and readiness on gRPC health or /readyz, never on anything that waits for Redis to live", () => {
    const container = containerOf(deployment);
    const port = listenPort(deployment);
    if (variant.includes("tls")) {
      // mTLS: the kubelet cannot present a certificate, so the probes run inside the pod (tested below).
      expect(container.readinessProbe.exec.command.at(-1)).toBe("/readyz");
      expect(container.livenessProbe.exec.command.at(-1)).toBe("/healthz");
      expect(container.startupProbe.exec.command.at(-1)).toBe("/healthz");
      return;
    }
    expect(container.readinessProbe).toMatchObject({ grpc: { port } });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: "/healthz", port } });
  });

  it("mount the configuration ConfigMap as a directory, so a change reaches running pods, at the file PORTCULLIS_CONFIG names", () => {
    const configPath = literal(deployment, "PORTCULLIS_CONFIG")!;
    const mount = containerOf(deployment).volumeMounts.find((candidate: { mountPath: string }) => candidate.mountPath === posix.dirname(configPath));
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    const volume = deployment.spec.template.spec.volumes.find((candidate: { name: string }) => candidate.name === mount.name);
    const configMap = manifests.find((manifest) => manifest.kind === "ConfigMap" && manifest.metadata.name === volume.configMap.name)!;
    expect(Object.keys(configMap.data!)).toEqual([posix.basename(configPath)]);
  });

  it("take the Redis password, token pepper and root tokens from a Secret, never from the manifest itself", () => {
    for (const name of ["REDIS_PASSWORD", "PORTCULLIS_TOKEN_PEPPER", "PORTCULLIS_ROOT_TOKENS"]) {
      const variable = envOf(deployment).find((candidate) => candidate.name === name);
      expect(variable?.value).toBeUndefined();
      expect(variable?.valueFrom?.secretKeyRef).toMatchObject({ name: "portcullis-secrets" });
    }
    expect(manifests.filter((manifest) => manifest.kind === "Secret")).toEqual([]);
  });

  it("set only variables the server reads, and a configuration the server's own loader accepts", () => {
    const configPath = literal(deployment, "PORTCULLIS_CONFIG")!;
    const configMap = manifests.find((manifest) => manifest.kind === "ConfigMap")!;
    const config = checkDeploymentSettings({ env: settingsEnv(deployment), configFile: configMap.data![posix.basename(configPath)] });
    expect(config.listen).toEqual({ host: "0.0.0.0", port: listenPort(deployment) });
    expect(config.redis).toBeDefined();
    expect(config.rootTokens).toHaveLength(1);
    expect(config.metricsEnabled).toBe(true);
    if (variant.includes("tls")) {
      expect(config.tls).toMatchObject({ certFile: "/etc/portcullis/tls/tls.crt", keyFile: "/etc/portcullis/tls/tls.key", clientCaFile: "/etc/portcullis/tls/ca.crt" });
      expect(config.warnings).toEqual([]);
    } else {
      expect(config.tls).toBeUndefined();
      expect(config.warnings).toEqual([expect.stringContaining("allow_insecure is on")]);
    }
  });

  it("point the PodDisruptionBudget, autoscaler and ServiceMonitor at these pods, never below 3 replicas", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(only(manifests, "PodDisruptionBudget").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: labels } });
    const autoscaler = only(manifests, "HorizontalPodAutoscaler").spec;
    expect(autoscaler.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(autoscaler.minReplicas).toBe(3);
    expect(only(manifests, "ServiceMonitor").spec.selector.matchLabels).toEqual(only(manifests, "Service").metadata.labels);
    expect(only(manifests, "NetworkPolicy").spec.podSelector.matchLabels).toEqual(labels);
  });
});

describe("the redis-sentinel overlay", () => {
  it("names the Sentinels and their master group instead of one Redis URL", async () => {
    const env = envOf(only(await render("overlays/redis-sentinel"), "Deployment"));
    const names = env.map((variable) => variable.name);
    expect(names).not.toContain("REDIS_URL");
    expect(names).toEqual(expect.arrayContaining(["PORTCULLIS_REDIS_SENTINELS", "PORTCULLIS_REDIS_SENTINEL_NAME", "REDIS_PASSWORD"]));
    const sentinels = env.find((variable) => variable.name === "PORTCULLIS_REDIS_SENTINELS")!.value!.split(",");
    expect(sentinels).toHaveLength(3);
    for (const sentinel of sentinels) expect(sentinel).toMatch(/^[a-z0-9.-]+:\d+$/);
  });
});

describe("the tls-cert-manager overlay", () => {
  let manifests: Manifest[];
  let deployment: Manifest;
  let pki: TestPki;
  let server: InProcessPortcullis | undefined;
  beforeAll(async () => {
    manifests = await render("overlays/tls-cert-manager");
    deployment = only(manifests, "Deployment");
    pki = createTestPki();
  });
  afterAll(async () => {
    await server?.stop();
    pki?.dispose();
  });

  it("serves TLS and mTLS from the cert-manager Certificate's Secret, mounted as a directory, and no longer allows cleartext", () => {
    const names = envOf(deployment).map((variable) => variable.name);
    expect(names).not.toContain("PORTCULLIS_ALLOW_INSECURE");
    const tlsDir = dirname(literal(deployment, "PORTCULLIS_TLS_CERT_FILE")!);
    for (const name of ["PORTCULLIS_TLS_KEY_FILE", "PORTCULLIS_TLS_CLIENT_CA_FILE"]) expect(dirname(literal(deployment, name)!)).toBe(tlsDir);
    const mount = containerOf(deployment).volumeMounts.find((candidate: { mountPath: string }) => candidate.mountPath === tlsDir);
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    const volume = deployment.spec.template.spec.volumes.find((candidate: { name: string }) => candidate.name === mount.name);
    const certificates = manifests.filter((manifest) => manifest.kind === "Certificate");
    const serverCertificate = certificates.find((certificate) => certificate.spec.secretName === volume.secret.secretName)!;
    // Its own probes present it as a client certificate.
    expect(serverCertificate.spec.usages).toEqual(expect.arrayContaining(["server auth", "client auth"]));
    expect(serverCertificate.spec.dnsNames).toContain(only(manifests, "Service").metadata.name);
    const issuers = manifests.filter((manifest) => manifest.kind === "Issuer").map((issuer) => issuer.metadata.name);
    for (const certificate of certificates) expect(issuers).toContain(certificate.spec.issuerRef.name);
    const scrape = only(manifests, "ServiceMonitor").spec.endpoints[0];
    expect(scrape.scheme).toBe("https");
    expect(certificates.map((certificate) => certificate.spec.secretName)).toContain(scrape.tlsConfig.keySecret.name);
  });

  it("has exec probes that pass against a real mTLS server with the pod's own certificate, where a client without one is refused", async () => {
    const port = await closedPort();
    const own = pki.serverAndClient("pod");
    const env = {
      PORTCULLIS_LISTEN: `127.0.0.1:${port}`,
      PORTCULLIS_TLS_CERT_FILE: own.cert,
      PORTCULLIS_TLS_KEY_FILE: own.key,
      PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
    };
    server = await startInProcess(env);
    const container = containerOf(deployment);
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      const [program, ...args] = probe.exec.command as string[];
      const result = await runProgram(program!, args, { env });
      expect({ command: args.at(-1), exitCode: result.exitCode, stderr: result.stderr }).toEqual({ command: args.at(-1), exitCode: 0, stderr: "" });
    }
    // What the kubelet's own HTTPS probe would do: no client certificate, refused in the handshake.
    const kubeletLike = await new Promise<string>((resolve) => {
      request({ host: "127.0.0.1", port, path: "/healthz", rejectUnauthorized: false }, (response) => resolve(`status ${response.statusCode}`))
        .on("error", (error) => resolve(`error ${error.message}`))
        .end();
    });
    expect(kubeletLike).toMatch(/^error /);
  });
});
