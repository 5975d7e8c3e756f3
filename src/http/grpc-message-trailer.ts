import type http2 from "node:http2";
import { grpcMessageValue } from "../http-semantics/percent-encoding.js";
import { GRPC_REQUEST_CONTENT_TYPE } from "./grpc-status.js";
import type { RequestHandler } from "./listener.js";

/**
 * connect-node writes grpc-message with encodeURIComponent, which also
 * escapes characters the gRPC spec leaves as they are (":", space, quotes).
 * grpc-js decodes with decodeURI, which keeps reserved escapes such as %3A,
 * so its callers read `scopes%3A "*" cannot be minted`. For gRPC calls this
 * re-encodes the trailer as the spec asks: only "%" and bytes outside
 * 0x20-0x7E, over UTF-8.
 */
export function withSpecGrpcMessage(next: RequestHandler): RequestHandler {
  return (request, response) => {
    if (GRPC_REQUEST_CONTENT_TYPE.test(request.headers["content-type"] ?? "")) {
      const addTrailers = response.addTrailers.bind(response) as (trailers: http2.OutgoingHttpHeaders) => void;
      response.addTrailers = (trailers: http2.OutgoingHttpHeaders) => addTrailers(reencoded(trailers));
    }
    next(request, response);
  };
}

function reencoded(trailers: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  const message = trailers["grpc-message"];
  if (typeof message !== "string") return trailers;
  let text: string;
  try {
    text = decodeURIComponent(message);
  } catch {
    // Not connect-node's encoding: left as it came.
    return trailers;
  }
  return { ...trailers, "grpc-message": grpcMessageValue(text) };
}
