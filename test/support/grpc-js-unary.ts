import { fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape, create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/** How a grpc-js call ended: the reply, or the status and details grpc-js decoded from the trailers. */
export type GrpcJsOutcome<O extends DescMessage> = { reply: MessageShape<O> } | { code: grpc.status; details: string };

/**
 * One unary call through @grpc/grpc-js, the client most gRPC users have,
 * to see a status message the way it reads it. Messages are (de)serialized
 * with the generated protobuf-es schemas.
 */
export async function grpcJsUnary<I extends DescMessage, O extends DescMessage>(
  baseUrl: string,
  method: { name: string; parent: { typeName: string }; input: I; output: O },
  request: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<GrpcJsOutcome<O>> {
  const client = new grpc.Client(new URL(baseUrl).host, grpc.credentials.createInsecure());
  const sent = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) sent.set(key, value);
  try {
    return await new Promise((resolve) => {
      client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (message: MessageShape<I>) => Buffer.from(toBinary(method.input, message)),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        create(method.input, request),
        sent,
        (error: grpc.ServiceError | null, reply?: MessageShape<O>) =>
          resolve(error ? { code: error.code, details: error.details } : { reply: reply! }),
      );
    });
  } finally {
    client.close();
  }
}
