import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { configFileWriter, refusal } from "../support/config-files.js";

const configFile = configFileWriter();

describe("limits on what clients hold open (http settings)", () => {
  it("default to 128 streams per connection, 10 s to send a request and 64 MiB of buffered request bytes, 4 MiB of them per connection", () => {
    expect(loadConfig({}).http).toEqual({
      maxConcurrentStreams: 128,
      requestReadTimeoutMs: 10_000,
      requestBufferMaxBytes: 64 * 1024 * 1024,
      requestBufferMaxBytesPerConnection: 4 * 1024 * 1024,
    });
  });

  it("come from the file, and environment variables win over it", () => {
    const file = configFile(
      "http: { max_concurrent_streams: 50, request_read_timeout_ms: 2000, request_buffer_max_bytes: 8388608, request_buffer_max_bytes_per_connection: 65536 }\n",
    );
    expect(loadConfig({ PORTCULLIS_CONFIG: file }).http).toEqual({
      maxConcurrentStreams: 50,
      requestReadTimeoutMs: 2000,
      requestBufferMaxBytes: 8 * 1024 * 1024,
      requestBufferMaxBytesPerConnection: 65536,
    });
    expect(
      loadConfig({
        PORTCULLIS_CONFIG: file,
        PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS: "16",
        PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS: "500",
        PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES: "1048576",
        PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES_PER_CONNECTION: "131072",
      }).http,
    ).toEqual({ maxConcurrentStreams: 16, requestReadTimeoutMs: 500, requestBufferMaxBytes: 1024 * 1024, requestBufferMaxBytesPerConnection: 131072 });
  });

  it.each([
    ["PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS", "http.max_concurrent_streams", "http: { max_concurrent_streams: 0 }\n"],
    ["PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS", "http.request_read_timeout_ms", "http: { request_read_timeout_ms: 0 }\n"],
    ["PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES", "http.request_buffer_max_bytes", "http: { request_buffer_max_bytes: -1 }\n"],
    [
      "PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES_PER_CONNECTION",
      "http.request_buffer_max_bytes_per_connection",
      "http: { request_buffer_max_bytes_per_connection: 0 }\n",
    ],
  ])("refuse a value for %s (%s) that is not a positive integer, from the environment as from the file", (name, key, yaml) => {
    expect(refusal({ [name]: "0" }).field).toBe(name);
    expect(refusal({ [name]: "1.5" }).field).toBe(name);
    expect(refusal({ PORTCULLIS_CONFIG: configFile(yaml) }).field).toBe(key);
  });
});
