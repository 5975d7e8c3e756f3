import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBuf } from "../support/buf-cli.js";
import { rejectionOf } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";

/** Each buf start takes seconds on a loaded machine; these tests start several. */
const SPAWNING_TIMEOUT_MS = 120_000;
const REFLECT_PROTOCOLS = ["grpc-v1", "grpc-v1alpha"] as const;

/** `buf curl` with no --schema: everything it knows of the API comes from the server's reflection. */
function bufCurl(args: string[]) {
  return runBuf(["curl", "--http2-prior-knowledge", ...args]);
}

describe("gRPC server reflection, as buf curl uses it with no schema", () => {
  let server: PortcullisProcess;
  beforeAll(async () => {
    server = await startPortcullisProcess();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(REFLECT_PROTOCOLS)(
    "lists the Portcullis, Envoy, health and reflection services and their methods (%s)",
    async (protocol) => {
      const listed = await bufCurl(["--list-methods", "--reflect-protocol", protocol, server.url]);
      expect(listed.stderr).toBe("");
      expect(listed.exitCode).toBe(0);
      const methods = listed.stdout.trim().split("\n");
      expect(methods).toEqual(
        expect.arrayContaining([
          "portcullis.v1.AuthorizationService/Authorize",
          "portcullis.v1.AuthorizationService/ResolveLibraries",
          "portcullis.v1.TokenAdminService/MintToken",
          "portcullis.v1.DcrService/AwaitResolution",
          "portcullis.v1.OAuthFlowService/StartAuthorization",
          "envoy.service.auth.v3.Authorization/Check",
          "grpc.health.v1.Health/Check",
          "grpc.health.v1.Health/Watch",
          "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
          "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ]),
      );
    },
    SPAWNING_TIMEOUT_MS,
  );

  it.each(REFLECT_PROTOCOLS)(
    "calls Authorize with the request written in JSON, the schema taken from reflection (%s)",
    async (protocol) => {
      const answer = await bufCurl([
        "--reflect-protocol",
        protocol,
        "--protocol",
        "grpc",
        "-d",
        JSON.stringify({ authorization: "Bearer pcl_not-a-real-token", resource: "GET /orders", requiredScope: "orders:read" }),
        `${server.url}/portcullis.v1.AuthorizationService/Authorize`,
      ]);
      expect(answer.exitCode).toBe(0);
      expect(JSON.parse(answer.stdout)).toMatchObject({ decision: "DECISION_DENY", reason: expect.any(String) });
    },
    SPAWNING_TIMEOUT_MS,
  );

  it(
    "answers a health check typed by hand, as an operator checks a server",
    async () => {
      const answer = await bufCurl(["--protocol", "grpc", "-d", "{}", `${server.url}/grpc.health.v1.Health/Check`]);
      expect(answer.exitCode).toBe(0);
      expect(JSON.parse(answer.stdout)).toEqual({ status: "SERVING" });
    },
    SPAWNING_TIMEOUT_MS,
  );
});

describe("a server with reflection: false", () => {
  let server: PortcullisProcess;
  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_REFLECTION: "false" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(
    "leaves buf curl unable to list its methods without a schema",
    async () => {
      const listed = await bufCurl(["--list-methods", server.url]);
      expect(listed.exitCode).not.toBe(0);
      expect(listed.stdout).toBe("");
      expect(listed.stderr).toMatch(/unimplemented/i);
    },
    SPAWNING_TIMEOUT_MS,
  );

  it("answers the reflection method Unimplemented, like any method it does not serve", async () => {
    const client = createClient(ServerReflection, createGrpcTransport({ baseUrl: server.url }));
    const call = (async () => {
      for await (const _ of client.serverReflectionInfo(
        (async function* () {
          yield { messageRequest: { case: "listServices" as const, value: "" } };
        })(),
      ));
    })();
    expect((await rejectionOf(call)).code).toBe(Code.Unimplemented);
  });
});
