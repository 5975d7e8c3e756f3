import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { decisionRequestOf } from "../../src/envoy/check-request.js";
import { decodeCheckRequest } from "../../src/envoy/check-request-decoder.js";

describe("the decision request of a Check, for rule conditions", () => {
  it("copies every header by lower-case name and the source address", () => {
    const request = decisionRequestOf(
      create(CheckRequestSchema, {
        attributes: {
          source: { address: { address: { case: "socketAddress", value: { address: "192.0.2.10", portSpecifier: { case: "portValue", value: 51234 } } } } },
          request: { http: { method: "GET", path: "/a", host: "api.example.com", headers: { "x-env": "prod", ":authority": "api.example.com" } } },
        },
      }),
    );
    expect(request.sourceAddress).toBe("192.0.2.10");
    expect(request.headers).toEqual(new Map([["x-env", "prod"], [":authority", "api.example.com"]]));
  });

  it("joins repeated raw headers with a comma, as Envoy's headers map does, and has no source without a socket address", () => {
    const request = decisionRequestOf(
      create(CheckRequestSchema, {
        attributes: {
          request: {
            http: {
              method: "GET",
              path: "/a",
              headerMap: { headers: [{ key: "X-Group", value: "a" }, { key: "x-group", rawValue: Buffer.from("b") }] },
            },
          },
        },
      }),
    );
    expect(request.headers).toEqual(new Map([["x-group", "a,b"]]));
    expect(request.sourceAddress).toBeUndefined();
  });

  it("never takes Object.prototype's members for headers named constructor or __proto__ in another spelling", () => {
    const check = create(CheckRequestSchema, {
      attributes: {
        request: {
          http: { method: "GET", path: "/a", host: "api.example.com", headers: { Constructor: "x", __Proto__: "y", "x-env": "prod" } },
        },
      },
    });
    for (const request of [decisionRequestOf(check), decisionRequestOf(decodeCheckRequest(toBinary(CheckRequestSchema, check)))]) {
      expect(request.headers).toEqual(new Map([["x-env", "prod"]]));
    }
  });

  it("reads a header named constructor as sent when Envoy lower-cased it", () => {
    const check = create(CheckRequestSchema, {
      attributes: { request: { http: { method: "GET", path: "/a", host: "api.example.com", headers: { constructor: "x" } } } },
    });
    expect(decisionRequestOf(check).headers).toEqual(new Map([["constructor", "x"]]));
  });
});
