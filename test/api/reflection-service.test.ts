import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, createRouterTransport, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createReflectionIndex } from "../../src/api/reflection-index.js";
import { answerReflection, createReflectionServices } from "../../src/api/reflection-service.js";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection, ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";

const index = createReflectionIndex([AuthorizationService, TokenAdminService, EnvoyAuthorization, Health, ServerReflection]);

function ask(messageRequest: MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"], sent = new Set<string>()) {
  return answerReflection(index, create(ServerReflectionRequestSchema, { host: "h", messageRequest }), sent);
}

/** The names of the files in a file_descriptor_response, in the order given; fails the test on any other answer. */
function fileNames(answer: ReturnType<typeof ask>): string[] {
  const response = answer.messageResponse;
  if (response?.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${JSON.stringify(response)}`);
  return (response.value.fileDescriptorProto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

function errorOf(answer: ReturnType<typeof ask>) {
  const response = answer.messageResponse;
  if (response?.case !== "errorResponse") throw new Error(`expected an error, got ${JSON.stringify(response)}`);
  return response.value;
}

describe("the server reflection answers", () => {
  it("lists every served service by its full name", () => {
    const answer = ask({ case: "listServices", value: "" });
    expect(answer.messageResponse).toEqual({
      case: "listServicesResponse",
      value: {
        service: [
          { name: "portcullis.v1.AuthorizationService" },
          { name: "portcullis.v1.TokenAdminService" },
          { name: "envoy.service.auth.v3.Authorization" },
          { name: "grpc.health.v1.Health" },
          { name: "grpc.reflection.v1.ServerReflection" },
        ],
      },
    });
    expect(answer.validHost).toBe("h");
  });

  it("gives the file containing a service with every file it imports, each once, the file itself first", () => {
    const names = fileNames(ask({ case: "fileContainingSymbol", value: "envoy.service.auth.v3.Authorization" }));
    expect(names[0]).toBe("envoy/service/auth/v3/external_auth.proto");
    expect(names).toEqual(expect.arrayContaining(["envoy/service/auth/v3/attribute_context.proto", "google/rpc/status.proto"]));
    // attribute_context.proto is imported only through external_auth.proto: its own imports come too.
    expect(names).toEqual(expect.arrayContaining(fileNames(ask({ case: "fileByFilename", value: "envoy/service/auth/v3/attribute_context.proto" }))));
    expect(new Set(names).size).toBe(names.length);
  });

  it("finds the file of a method, a message, a field, a nested enum and an enum value", () => {
    const authorizeFile = "portcullis/v1/authorization.proto";
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "portcullis.v1.AuthorizationService.Authorize" }))[0]).toBe(authorizeFile);
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "portcullis.v1.AuthorizeRequest" }))[0]).toBe(authorizeFile);
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "portcullis.v1.AuthorizeRequest.resource" }))[0]).toBe(authorizeFile);
    const healthFile = "grpc/health/v1/health.proto";
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" }))[0]).toBe(healthFile);
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.SERVING" }))[0]).toBe(healthFile);
  });

  it("reaches the well-known types the API imports", () => {
    expect(fileNames(ask({ case: "fileContainingSymbol", value: TimestampSchema.typeName }))).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it("leaves out imports already sent on the same stream, but always sends the file asked for", () => {
    const sent = new Set<string>();
    const first = fileNames(ask({ case: "fileContainingSymbol", value: "envoy.service.auth.v3.Authorization" }, sent));
    expect(first.length).toBeGreaterThan(1);
    expect(fileNames(ask({ case: "fileContainingSymbol", value: "envoy.service.auth.v3.Authorization" }, sent))).toEqual([first[0]]);
  });

  it("answers NOT_FOUND for an unknown symbol, file, extension or type, and keeps the stream usable", () => {
    expect(errorOf(ask({ case: "fileContainingSymbol", value: "portcullis.v1.NoSuchThing" }))).toMatchObject({
      errorCode: Code.NotFound,
      errorMessage: "symbol not found: portcullis.v1.NoSuchThing",
    });
    expect(errorOf(ask({ case: "fileByFilename", value: "nope.proto" })).errorCode).toBe(Code.NotFound);
    expect(
      errorOf(ask({ case: "fileContainingExtension", value: { containingType: "portcullis.v1.AuthorizeRequest", extensionNumber: 1000 } }))
        .errorCode,
    ).toBe(Code.NotFound);
    expect(errorOf(ask({ case: "allExtensionNumbersOfType", value: "portcullis.v1.NoSuchMessage" })).errorCode).toBe(Code.NotFound);
  });

  it("answers an empty extension list for a known message that nothing extends", () => {
    expect(ask({ case: "allExtensionNumbersOfType", value: "portcullis.v1.AuthorizeRequest" }).messageResponse).toEqual({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "portcullis.v1.AuthorizeRequest", extensionNumber: [] },
    });
  });

  it("answers INVALID_ARGUMENT for a request that asks nothing", () => {
    expect(errorOf(ask({ case: undefined })).errorCode).toBe(Code.InvalidArgument);
  });
});

describe("the reflection services over a stream", () => {
  const services = createReflectionServices(index);
  const transport = createRouterTransport((router) => {
    router.service(ServerReflection, services.v1);
    router.service(ServerReflectionV1Alpha, services.v1alpha);
  });

  it("answers each request of a v1 stream in order, echoing the request", async () => {
    const answers = [];
    for await (const answer of createClient(ServerReflection, transport).serverReflectionInfo(
      (async function* () {
        yield { messageRequest: { case: "listServices" as const, value: "" } };
        yield { messageRequest: { case: "fileContainingSymbol" as const, value: "nope.Nothing" } };
        yield { messageRequest: { case: "fileByFilename" as const, value: "grpc/health/v1/health.proto" } };
      })(),
    )) {
      answers.push(answer);
    }
    expect(answers.map((answer) => answer.messageResponse.case)).toEqual(["listServicesResponse", "errorResponse", "fileDescriptorResponse"]);
    expect(answers[1]!.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "nope.Nothing" });
  });

  it("answers v1alpha with the same content in v1alpha messages", async () => {
    const answers = [];
    for await (const answer of createClient(ServerReflectionV1Alpha, transport).serverReflectionInfo(
      (async function* () {
        yield { messageRequest: { case: "fileContainingSymbol" as const, value: "grpc.health.v1.Health" } };
      })(),
    )) {
      answers.push(answer);
    }
    expect(answers).toHaveLength(1);
    expect(answers[0]!.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
    const response = answers[0]!.messageResponse;
    expect(response.case).toBe("fileDescriptorResponse");
    const names = (response.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map(
      (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
    );
    expect(names).toEqual(["grpc/health/v1/health.proto"]);
  });
});
