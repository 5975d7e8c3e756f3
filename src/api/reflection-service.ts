import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { withDependencies, type ReflectionIndex } from "./reflection-index.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as V1AlphaRequestSchema,
  ServerReflectionResponseSchema as V1AlphaResponseSchema,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

type ReflectionAnswer = MessageInitShape<typeof ServerReflectionResponseSchema>;
type MessageResponse = ReflectionAnswer["messageResponse"];

/**
 * One answer of `grpc.reflection.v1.ServerReflection/ServerReflectionInfo`.
 * A lookup that finds nothing is an `error_response` on the stream (NOT_FOUND),
 * never the end of the stream. `sent` names the files already given on this
 * stream, which later answers may leave out.
 */
export function answerReflection(index: ReflectionIndex, request: ServerReflectionRequest, sent: Set<string>): ReflectionAnswer {
  return { validHost: request.host, originalRequest: request, messageResponse: messageResponse(index, request, sent) };
}

function messageResponse(index: ReflectionIndex, request: ServerReflectionRequest, sent: Set<string>): MessageResponse {
  const asked = request.messageRequest;
  const files = (file: ReturnType<ReflectionIndex["fileByName"]>, missing: string): MessageResponse =>
    file === undefined
      ? error(Code.NotFound, missing)
      : {
          case: "fileDescriptorResponse",
          value: { fileDescriptorProto: withDependencies(file, sent).map((found) => toBinary(FileDescriptorProtoSchema, found.proto)) },
        };
  switch (asked.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(index.fileByName(asked.value), `file not found: ${asked.value}`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(asked.value), `symbol not found: ${asked.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = asked.value;
      return files(index.fileContainingExtension(containingType, extensionNumber), `extension not found: ${containingType}(${extensionNumber})`);
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbersOf(asked.value);
      return numbers === undefined
        ? error(Code.NotFound, `type not found: ${asked.value}`)
        : { case: "allExtensionNumbersResponse", value: { baseTypeName: asked.value, extensionNumber: numbers } };
    }
    default:
      return error(Code.InvalidArgument, "no request: set one of the message_request fields");
  }
}

function error(code: Code, message: string): MessageResponse {
  return { case: "errorResponse", value: { errorCode: code, errorMessage: message } };
}

/** Server reflection v1, and v1alpha for older clients (grpcurl before 1.9, some buf versions). */
export function createReflectionServices(index: ReflectionIndex): {
  v1: ServiceImpl<typeof ServerReflection>;
  v1alpha: ServiceImpl<typeof ServerReflectionV1Alpha>;
} {
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of requests) yield answerReflection(index, request, sent);
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const request of requests) {
          // v1alpha is v1 under another package name: the same fields with the same numbers, so the bytes carry over.
          const asV1 = fromBinary(ServerReflectionRequestSchema, toBinary(V1AlphaRequestSchema, request));
          const answer = create(ServerReflectionResponseSchema, answerReflection(index, asV1, sent));
          yield fromBinary(V1AlphaResponseSchema, toBinary(ServerReflectionResponseSchema, answer));
        }
      },
    },
  };
}
