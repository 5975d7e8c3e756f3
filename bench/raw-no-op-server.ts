/**
 * The transport's ceiling, run as its own process by bench/run.ts: a raw
 * node:http2 server that reads the request, answers one empty gRPC message
 * and grpc-status 0. Prints `listening <port>` once it listens.
 * docs/transport-limits.md explains why this is the baseline.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { grpcFrame } from "../test/support/raw-grpc.js";

const reply = grpcFrame(new Uint8Array());
const server = http2.createServer();
server.on("stream", (stream) => {
  stream.on("data", () => undefined);
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(reply);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on("SIGTERM", () => process.exit(0));
