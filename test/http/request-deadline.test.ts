import http from "node:http";
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, type Listener } from "../../src/http/listener.js";

const READ_TIMEOUT_MS = 200;
const ANSWER_AFTER_MS = 3 * READ_TIMEOUT_MS;

describe("the request read deadline", () => {
  let listener: Listener;
  let url: string;
  beforeAll(async () => {
    // Reads the whole request, then takes longer than the read deadline to answer.
    const handler = (request: http.IncomingMessage | http2.Http2ServerRequest, response: http.ServerResponse | http2.Http2ServerResponse) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => void sleep(ANSWER_AFTER_MS).then(() => response.end(`read ${body}`)));
    };
    listener = await listen("127.0.0.1", 0, handler, { maxConcurrentStreams: 8, requestReadTimeoutMs: READ_TIMEOUT_MS });
    url = `http://127.0.0.1:${listener.address.port}`;
  });
  afterAll(async () => {
    await listener?.close(1000);
  });

  it("leaves an HTTP/2 call alone whose request arrived in time, however long its answer takes", async () => {
    const session = http2.connect(url);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/slow", "content-type": "application/grpc" });
      stream.end("body");
      let answer = "";
      stream.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      await new Promise((resolve) => stream.once("close", resolve));
      expect([stream.rstCode, answer]).toEqual([http2.constants.NGHTTP2_NO_ERROR, "read body"]);
    } finally {
      session.close();
    }
  });

  it("leaves an HTTP/1.1 call alone whose request arrived in time, however long its answer takes", async () => {
    const response = await fetch(`${url}/slow`, { method: "POST", body: "body" });
    expect([response.status, await response.text()]).toEqual([200, "read body"]);
  });
});
