import * as grpc from "@grpc/grpc-js";
import { loadSync, type PackageDefinition, type ServiceDefinition } from "@grpc/proto-loader";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The upstream Envoy protos, unmodified, as the gRPC team ships them in
 * @grpc/grpc-js-xds: Envoy's data-plane-api with the trees it imports.
 */
const XDS_PACKAGE = dirname(createRequire(import.meta.url).resolve("@grpc/grpc-js-xds/package.json"));
const ENVOY_PROTO_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((tree) => join(XDS_PACKAGE, "deps", tree));

/** A CheckResponse as @grpc/proto-loader decodes it (keepCase, enums as strings, oneofs). */
export interface WireHeaderOption {
  header: { key: string; value: string; raw_value: Buffer };
  append: { value: boolean } | null;
  append_action: string;
  keep_empty_value: boolean;
}
export interface WireCheckResponse {
  status: { code: number; message: string } | null;
  http_response?: "denied_response" | "ok_response" | "error_response";
  denied_response?: { status: { code: string } | null; headers: WireHeaderOption[]; body: string };
  ok_response?: { headers: WireHeaderOption[]; headers_to_remove: string[] };
  dynamic_metadata: { fields: Record<string, { kind: string; stringValue?: string }> } | null;
}

export interface HttpAttributes {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  contextExtensions?: Record<string, string>;
}

export interface EnvoyClient {
  /** `metadata` is the Check call's own gRPC metadata, as Envoy's ext_authz client sends it (a traceparent when Envoy traces). */
  check(request: HttpAttributes, metadata?: Record<string, string>, options?: grpc.CallOptions): Promise<WireCheckResponse>;
  /** Sends a CheckRequest exactly as given (upstream field names); `options` may set a deadline. */
  checkRaw(request: object, metadata?: Record<string, string>, options?: grpc.CallOptions): Promise<WireCheckResponse>;
  close(): void;
}

type CheckClient = grpc.Client & {
  Check(request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: WireCheckResponse) => void): void;
};

/**
 * A grpc-js client for envoy.service.auth.v3.Authorization built from the
 * upstream protos, as Envoy's own would be; in cleartext (h2c) unless given
 * TLS credentials (`grpc.credentials.createSsl(ca, key, cert)`).
 */
export function createEnvoyClient(baseUrl: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): EnvoyClient {
  const definition = authorizationDefinition();
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: new (address: string, credentials: grpc.ChannelCredentials) => CheckClient } } } };
  };
  const client = new loaded.envoy.service.auth.v3.Authorization(new URL(baseUrl).host, credentials);
  const checkRaw = (request: object, metadata: Record<string, string> = {}, options: grpc.CallOptions = {}) => {
    const sent = new grpc.Metadata();
    for (const [key, value] of Object.entries(metadata)) sent.set(key, value);
    return new Promise<WireCheckResponse>((resolvePromise, reject) =>
      client.Check(request, sent, options, (error, response) => (error ? reject(error) : resolvePromise(response!))),
    );
  };
  return {
    checkRaw,
    check: (attributes, metadata, options) => checkRaw(checkRequest(attributes), metadata, options),
    close: () => client.close(),
  };
}

function authorizationDefinition(): PackageDefinition {
  return loadSync("envoy/service/auth/v3/external_auth.proto", {
    includeDirs: ENVOY_PROTO_DIRS,
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

/** A CheckRequest (upstream field names) as the grpc-js client above writes it on the wire. */
export function upstreamCheckRequestBytes(request: object): Buffer {
  const service = authorizationDefinition()["envoy.service.auth.v3.Authorization"] as ServiceDefinition;
  return service.Check!.requestSerialize(request);
}

/** A CheckRequest shaped as Envoy's ext_authz filter sends it. */
export function checkRequest(attributes: HttpAttributes): object {
  return {
    attributes: {
      source: { address: { socket_address: { address: "192.0.2.10", port_value: 51234 } } },
      request: {
        time: { seconds: "1767225600", nanos: 0 },
        http: {
          id: "4242",
          method: attributes.method ?? "GET",
          path: attributes.path ?? "/",
          host: attributes.host ?? "api.example.com",
          scheme: "https",
          protocol: "HTTP/1.1",
          headers: { ":authority": attributes.host ?? "api.example.com", "user-agent": "test", ...attributes.headers },
        },
      },
      context_extensions: attributes.contextExtensions ?? {},
    },
  };
}

/** The header named `name` of a header option list, or undefined. */
export function headerNamed(options: WireHeaderOption[], name: string): WireHeaderOption | undefined {
  return options.find((option) => option.header.key === name);
}

/**
 * The request headers the upstream receives after Envoy applies an OK
 * response, in Envoy's order (ext_authz.cc onComplete): headers set first,
 * then headers_to_remove.
 */
export function upstreamHeaders(incoming: Record<string, string>, ok: NonNullable<WireCheckResponse["ok_response"]>): Record<string, string> {
  const headers = { ...incoming };
  for (const option of ok.headers) {
    // Portcullis only ever overwrites: appending would keep a client's spoofed value.
    if (option.append !== null || option.append_action !== "OVERWRITE_IF_EXISTS_OR_ADD") {
      throw new Error(`header ${option.header.key} is not set with OVERWRITE_IF_EXISTS_OR_ADD`);
    }
    headers[option.header.key] = option.header.value;
  }
  for (const name of ok.headers_to_remove) delete headers[name];
  return headers;
}

/** dynamic_metadata as a plain object of strings. */
export function metadataOf(response: WireCheckResponse): Record<string, string> {
  return Object.fromEntries(
    Object.entries(response.dynamic_metadata?.fields ?? {}).map(([key, value]) => [key, value.stringValue ?? ""]),
  );
}
