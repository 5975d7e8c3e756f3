import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestHandler } from "../../src/http/listener.js";
import { readOnlyRoute, routeTable, type Route } from "../../src/http/route-table.js";

const answering =
  (text: string): RequestHandler =>
  (_request, response) =>
    void response.end(text);

/** A route for POST requests to /first, to show that order decides between overlapping routes. */
const postsToFirst: Route = {
  matches: (request, path) => request.method === "POST" && path === "/first",
  handle: (_request, response) => void response.end("posted"),
};

describe("the route table", () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    const handler = routeTable(
      [postsToFirst, readOnlyRoute(["/first", "/also-first"], answering("first")), readOnlyRoute(["/first"], answering("second"))],
      (_request, response) => void response.writeHead(404).end("fallback"),
    );
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const text = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${url}${path}`, init);
    return [response.status, await response.text()];
  };

  it("answers with the first route that matches, whatever follows it", async () => {
    expect(await text("/first")).toEqual([200, "first"]);
    expect(await text("/also-first")).toEqual([200, "first"]);
    expect(await text("/first", { method: "POST" })).toEqual([200, "posted"]);
  });

  it("matches a path without its query string", async () => {
    expect(await text("/first?x=1")).toEqual([200, "first"]);
  });

  it("hands a request no route matches to the fallback", async () => {
    expect(await text("/firstly")).toEqual([404, "fallback"]);
    expect(await text("/elsewhere?/first")).toEqual([404, "fallback"]);
  });

  it("answers a read-only route's path 405 for methods other than GET and HEAD", async () => {
    const response = await fetch(`${url}/also-first`, { method: "DELETE" });
    expect([response.status, response.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
    expect((await fetch(`${url}/also-first`, { method: "HEAD" })).status).toBe(200);
  });
});
