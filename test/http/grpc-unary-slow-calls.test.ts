import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { grpcTimeoutMs } from "../../src/http/grpc-timeout.js";
import type { Listener } from "../../src/http/listener.js";
import { AuthorizeResponseSchema, Decision, type AuthorizeRequest, type AuthorizeResponse } from "../../gen/portcullis/v1/authorization_pb.js";
import { eventually } from "../support/eventually.js";
import { AUTHORIZE_PATH, authorizeMessage, startLeanAuthorize } from "../support/lean-authorize.js";
import { grpcFrame, openRawGrpcStream, rawGrpcCall } from "../support/raw-grpc.js";
const DEADLINE_EXCEEDED = 4;
const INVALID_ARGUMENT = 3;

const request = (resource: string) => grpcFrame(authorizeMessage(resource));

describe("reading grpc-timeout", () => {
  it.each([
    ["2H", 7_200_000],
    ["3M", 180_000],
    ["5S", 5000],
    ["250m", 250],
    ["1500u", 1.5],
    ["2000000n", 2],
    ["0m", 0],
    ["99999999m", 99_999_999],
  ])("reads %s as %d ms", (value, milliseconds) => {
    expect(grpcTimeoutMs(value)).toBe(milliseconds);
  });

  it("takes a call without grpc-timeout, or with one longer than any timer can wait, as one without a deadline", () => {
    expect(grpcTimeoutMs(undefined)).toBeUndefined();
    expect(grpcTimeoutMs("99999999H")).toBeUndefined();
  });

  it.each(["1x", "123456789m", "-1S", "1.5S", "S", " 5S", "5 S", ""])("refuses %j with INVALID_ARGUMENT, as connect-node does", (value) => {
    expect(() => grpcTimeoutMs(value)).toThrow(new ConnectError(`protocol error: invalid grpc timeout value: ${value}`, Code.InvalidArgument));
  });

  it("refuses a grpc-timeout sent twice", () => {
    expect(() => grpcTimeoutMs(["1S", "2S"])).toThrow(/invalid grpc timeout value/);
  });
});

/** Resources the decision was asked about, in order, and those it answered. */
const asked: string[] = [];
const answered: string[] = [];

/**
 * A decision whose resource says how slow it is: `wait:<ms>` waits on a
 * timer, `spin:<ms>` holds the event loop (so no timer can fire), anything
 * else answers at once. Every one answers ALLOW.
 */
async function slowAuthorize(call: AuthorizeRequest): Promise<AuthorizeResponse> {
  asked.push(call.resource);
  const [kind, ms] = call.resource.split(":");
  if (kind === "wait") await sleep(Number(ms));
  if (kind === "spin") {
    const until = performance.now() + Number(ms);
    while (performance.now() < until);
  }
  answered.push(call.resource);
  return create(AuthorizeResponseSchema, { decision: Decision.ALLOW, reason: call.resource });
}

describe("the lean gRPC path's deadline", () => {
  let listener: Listener;
  let url: string;
  beforeAll(async () => {
    // The lean path alone around slowAuthorize; anything it would pass on fails the test.
    ({ listener, url } = await startLeanAuthorize(slowAuthorize));
  });
  beforeEach(() => {
    asked.length = 0;
    answered.length = 0;
  });
  afterAll(async () => {
    await listener?.close(1000);
  });

  it("answers a call slower than its grpc-timeout DEADLINE_EXCEEDED, never the ALLOW the decision finds afterwards", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, request("wait:400"), { "grpc-timeout": "100m" });
    expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, DEADLINE_EXCEEDED, "deadline exceeded: no answer within grpc-timeout 100m"]);
    expect(reply.body.length).toBe(0);
    expect(asked).toEqual(["wait:400"]);
    // The decision ends later, its ALLOW dropped; the next test must not see it end.
    await eventually(async () => answered.includes("wait:400"), 5000);
  });

  it("answers DEADLINE_EXCEEDED when the decision ends past the deadline while holding the event loop, before the timer could fire", async () => {
    // The deadline leaves ample time for the request to arrive, even on a busy machine; the decision takes twice as long.
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, request("spin:600"), { "grpc-timeout": "300m" });
    expect(answered).toEqual(["spin:600"]);
    expect([reply.trailersOnly, reply.status]).toEqual([true, DEADLINE_EXCEEDED]);
  });

  it("does not start the decision of a call whose deadline passed while its message was still arriving", async () => {
    const session = http2.connect(url);
    try {
      const call = openRawGrpcStream(session, AUTHORIZE_PATH, { "grpc-timeout": "100m" });
      const body = request("late");
      call.stream.write(body.subarray(0, 3));
      const reply = await call.reply;
      expect([reply.trailersOnly, reply.status]).toEqual([true, DEADLINE_EXCEEDED]);
      expect(asked).toEqual([]);
    } finally {
      session.close();
    }
  });

  it("answers a grpc-timeout of 0 DEADLINE_EXCEEDED without asking for a decision", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, request("instant"), { "grpc-timeout": "0S" });
    expect([reply.trailersOnly, reply.status]).toEqual([true, DEADLINE_EXCEEDED]);
    expect(asked).toEqual([]);
  });

  it("refuses a malformed grpc-timeout with INVALID_ARGUMENT without asking for a decision", async () => {
    const reply = await rawGrpcCall(url, AUTHORIZE_PATH, request("instant"), { "grpc-timeout": "1.5S" });
    expect([reply.trailersOnly, reply.status, reply.message]).toEqual([true, INVALID_ARGUMENT, "protocol error: invalid grpc timeout value: 1.5S"]);
    expect(asked).toEqual([]);
  });

  it("answers a call within its grpc-timeout as it answers one without a deadline", async () => {
    for (const headers of [{ "grpc-timeout": "10S" }, {}]) {
      const reply = await rawGrpcCall(url, AUTHORIZE_PATH, request("wait:20"), headers);
      expect([reply.trailersOnly, reply.status, reply.trailers["grpc-status"]]).toEqual([false, 0, "0"]);
      expect(fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason).toBe("wait:20");
    }
  });
});

describe("a lean call in flight when the listener closes", () => {
  it("is answered in full, and close() waits for it", async () => {
    const { listener, url } = await startLeanAuthorize(slowAuthorize);
    const session = http2.connect(url);
    try {
      const call = openRawGrpcStream(session, AUTHORIZE_PATH);
      call.stream.end(request("wait:300"));
      // The decision has started: the call is in flight when close() is called.
      await eventually(async () => asked.includes("wait:300"), 5000);
      const closed = listener.close(5000).then(() => "closed");
      const reply = await call.reply;
      expect([reply.status, fromBinary(AuthorizeResponseSchema, reply.body.subarray(5)).reason]).toEqual([0, "wait:300"]);
      expect(await closed).toBe("closed");
    } finally {
      session.destroy();
    }
  });
});
