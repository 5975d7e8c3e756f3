import http2 from "node:http2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LISTENER_LIMITS, listen, type Listener } from "../../src/http/listener.js";

/** One HTTP/2 GET on its own connection: status and body. */
async function get(url: string, path: string): Promise<[number, string]> {
  const session = http2.connect(url);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ":path": path });
      let status = 0;
      let body = "";
      stream.on("response", (headers) => (status = Number(headers[":status"])));
      stream.on("data", (chunk: Buffer) => (body += chunk.toString()));
      stream.on("error", reject);
      stream.on("close", () => resolve([status, body]));
    });
  } finally {
    session.close();
  }
}

describe("HTTP/2 streams offered to a stream handler before node's compatibility API", () => {
  let listener: Listener;
  let url: string;
  const seenByStreamHandler: string[] = [];
  const seenByRequestHandler: string[] = [];
  beforeAll(async () => {
    listener = await listen(
      "127.0.0.1",
      0,
      {
        stream(stream, headers) {
          seenByStreamHandler.push(String(headers[":path"]));
          if (headers[":path"] !== "/raw") return false;
          stream.respond({ ":status": 200 });
          stream.end("served raw");
          return true;
        },
        request(request, response) {
          seenByRequestHandler.push(`${request.httpVersion} ${request.url}`);
          response.end("served by the request handler");
        },
      },
      DEFAULT_LISTENER_LIMITS,
    );
    url = `http://127.0.0.1:${listener.address.port}`;
  });
  beforeEach(() => {
    seenByStreamHandler.length = 0;
    seenByRequestHandler.length = 0;
  });
  afterAll(async () => {
    await listener?.close(1000);
  });

  it("answers a stream the stream handler takes once, without it ever becoming a request", async () => {
    expect(await get(url, "/raw")).toEqual([200, "served raw"]);
    expect([seenByStreamHandler, seenByRequestHandler]).toEqual([["/raw"], []]);
  });

  it("hands a stream the stream handler leaves to the request handler, once", async () => {
    expect(await get(url, "/other")).toEqual([200, "served by the request handler"]);
    expect([seenByStreamHandler, seenByRequestHandler]).toEqual([["/other"], ["2.0 /other"]]);
  });

  it("sends HTTP/1.1 to the request handler only, whatever its path", async () => {
    const response = await fetch(`${url}/raw`);
    expect([response.status, await response.text()]).toEqual([200, "served by the request handler"]);
    expect([seenByStreamHandler, seenByRequestHandler]).toEqual([[], ["1.1 /raw"]]);
  });
});
