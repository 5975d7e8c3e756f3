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
  /** The RST_STREAM code the stream closed with (0 when it ended normally or with NO_ERROR). */
  rstCode: number;
}

export interface RawGrpcStream {
  /** The request side, left open: write (part of) a body, end it, or never. */
  readonly stream: http2.ClientHttp2Stream;
  /** Settles when the stream closes, however it closes (an answer, RST_STREAM, a reset session). */
  readonly reply: Promise<RawGrpcReply>;
}

/** Opens one gRPC call on `session` framed by hand, to see exactly what a server writes and when. */
export function openRawGrpcStream(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): RawGrpcStream {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  const reply = new Promise<RawGrpcReply>((resolve) => {
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
    // A reset stream also emits "error"; its code is read on "close".
    stream.on("error", () => undefined);
    stream.on("close", () => {
      const statusSource = trailersOnly ? responseHeaders : trailers;
      resolve({
        headers: responseHeaders,
        trailersOnly,
        trailers,
        body: Buffer.concat(chunks),
        status: Number(statusSource["grpc-status"]),
        message: decodeURIComponent(String(statusSource["grpc-message"] ?? "")),
        rstCode: stream.rstCode ?? 0,
      });
    });
  });
  return { stream, reply };
}

/** One gRPC request framed by hand on a connection the caller owns, which further calls may share. */
export function rawGrpcCallOn(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<RawGrpcReply> {
  const call = openRawGrpcStream(session, path, headers);
  call.stream.end(body);
  return call.reply;
}

/** One gRPC request framed by hand over its own node:http2 connection. */
export async function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Uint8Array,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<RawGrpcReply> {
  const session = http2.connect(baseUrl);
  const failed = new Promise<never>((_resolve, reject) => session.on("error", reject));
  try {
    return await Promise.race([rawGrpcCallOn(session, path, body, headers), failed]);
  } finally {
    session.close();
  }
}

/** The 5-byte gRPC length prefix plus the message. */
export function grpcFrame(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = flags;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}
