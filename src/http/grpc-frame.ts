import { Code, ConnectError } from "@connectrpc/connect";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

/** gRPC's length prefix: one flags byte, then the message length (4 bytes, big-endian). */
export const FRAME_HEADER_BYTES = 5;
const FLAG_COMPRESSED = 0b1;
const gunzipAsync = promisify(gunzip);

/**
 * The one message of a unary request, out of its length-prefixed frame:
 * at once, unless it must be inflated. A frame that breaks the protocol
 * throws (or, inflating, rejects) the ConnectError to answer.
 */
export function unframe(body: Buffer, gzipped: boolean, readMaxBytes: number): Uint8Array | Promise<Uint8Array> {
  if (body.length === 0) throw new ConnectError("protocol error: missing request message", Code.Unimplemented);
  if (body.length < FRAME_HEADER_BYTES) throw new ConnectError("protocol error: incomplete message frame", Code.InvalidArgument);
  const flags = body[0]!;
  const length = body.readUInt32BE(1);
  const end = FRAME_HEADER_BYTES + length;
  if ((flags & ~FLAG_COMPRESSED) !== 0) throw new ConnectError(`protocol error: unknown frame flags 0x${flags.toString(16)}`, Code.InvalidArgument);
  if (body.length < end) throw new ConnectError(`protocol error: frame promised ${length} bytes, got ${body.length - FRAME_HEADER_BYTES}`, Code.InvalidArgument);
  if (body.length > end) throw new ConnectError("protocol error: more than one request message for a unary method", Code.Unimplemented);
  const message = body.subarray(FRAME_HEADER_BYTES, end);
  if ((flags & FLAG_COMPRESSED) === 0) return message;
  if (!gzipped) throw new ConnectError("protocol error: compressed message without grpc-encoding", Code.InvalidArgument);
  return gunzipAsync(message, { maxOutputLength: readMaxBytes }).catch((error: unknown) => {
    if (error instanceof RangeError) throw new ConnectError(`message is larger than ${readMaxBytes} bytes`, Code.ResourceExhausted);
    throw new ConnectError("protocol error: message is not valid gzip", Code.InvalidArgument);
  });
}

/** One uncompressed message in its length-prefixed frame. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}
