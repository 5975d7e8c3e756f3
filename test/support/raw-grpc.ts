import http2 from "node:http2";

export interface RawGrpcReply {
  headers: http2.IncomingHttpHeaders;
  /** True when the first HEADERS frame ended the stream: a trailers-only response. */
  trailersOnly: boolean;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** grpc-status from the trailers, or from the headers of a trailers-only response. */
  status: number;
  message: string;
}

/** One gRPC request framed by hand over node:http2, to see exactly what a server writes. */
export function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<RawGrpcReply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let trailersOnly = false;
    const chunks: Buffer[] = [];
    stream.on("response", (received, flags) => {
      responseHeaders = received;
      trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on("trailers", (received) => (trailers = received));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      const statusSource = trailersOnly ? responseHeaders : trailers;
      resolve({
        headers: responseHeaders,
        trailersOnly,
        trailers,
        body: Buffer.concat(chunks),
        status: Number(statusSource["grpc-status"]),
        message: decodeURIComponent(String(statusSource["grpc-message"] ?? "")),
      });
    });
    stream.end(body);
  });
}

/** The 5-byte gRPC length prefix plus the message. */
export function grpcFrame(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = flags;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}
