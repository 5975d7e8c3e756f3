import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { TEST_POLICY } from "../support/envoy-fixture.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { createTestPki, type CertificateFiles, type TestPki } from "../support/tls-certificates.js";
import { curlTls, nodeTls } from "../support/tls-clients.js";
import { leakedSecrets } from "./replica-probes.js";
import { percentile, recordRow, variant } from "./rows.js";
import { alertOrNothing, allowedIn, captureClientHello, http1Authorize, rawExchange, RESOURCE, tlsExchange } from "./tls-exchanges.js";

/** docs/tls.md: a client that does not finish its handshake within 10 s is dropped. */
const HANDSHAKE_DEADLINE_MS = 10_000;
/** How late past the deadline a drop may come on a loaded machine. */
const DROP_MARGIN_MS = 4000;
const HALF_OPEN = variant() === "long" ? 1000 : 200;
/** A stack frame as node prints one: `    at fn (file.js:1:2)`. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CaseResult {
  /** Bad connections tried. */
  attempts: number;
  /** Of them, those that got an ALLOW back. */
  allowed: number;
}

describe("malformed and refused TLS handshakes on Portcullis's own mTLS port, with valid traffic beside them", () => {
  const writeConfig = configFileWriter();
  let pki: TestPki;
  let otherCa: TestPki;
  let good: CertificateFiles;
  let server: PortcullisProcess;
  let port: number;
  let clients: Clients;
  let rootToken: string;
  let reader: string;
  let clientHello: Buffer;

  beforeAll(async () => {
    pki = createTestPki("Portcullis TLS test CA");
    otherCa = createTestPki("Another CA");
    const serving = pki.server("portcullis");
    good = pki.client("gateway", ["DNS:gateway.example"]);
    rootToken = `pcl_root_${randomBytes(24).toString("hex")}`;
    const config = writeConfig(stringify({ policy: TEST_POLICY, envoy: { realm: "example" } }));
    server = await startPortcullisProcess({
      env: {
        PORTCULLIS_CONFIG: config,
        PORTCULLIS_ROOT_TOKENS: rootToken,
        PORTCULLIS_LOG_LEVEL: "info",
        PORTCULLIS_TLS_CERT_FILE: serving.cert,
        PORTCULLIS_TLS_KEY_FILE: serving.key,
        PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
      },
    });
    port = Number(new URL(server.url).port);
    clients = createClients(`https://localhost:${port}`, nodeTls(pki, good));
    reader = (await clients.admin.mintToken({ scopes: ["kafka:read"], name: "reader" }, bearer(rootToken))).token;
    clientHello = await captureClientHello();
    expect(clientHello[0]).toBe(0x16);
    expect(clientHello.readUInt16BE(3) + 5).toBe(clientHello.length);
  });
  afterAll(async () => {
    await server?.stop();
    pki?.dispose();
    otherCa?.dispose();
  });

  /** Valid mTLS Authorize calls, two at a time, until stopped: how long each took and whether it was allowed. */
  function validTraffic(): { stop(): Promise<{ ms: number[]; failures: string[] }> } {
    const ms: number[] = [];
    const failures: string[] = [];
    let running = true;
    const workers = Array.from({ length: 2 }, async () => {
      while (running) {
        const started = Date.now();
        try {
          const answer = await clients.authorization.authorize({ authorization: `Bearer ${reader}`, resource: RESOURCE }, { timeoutMs: 3000 });
          if (answer.decision !== Decision.ALLOW) failures.push(`${Decision[answer.decision]} ${answer.reason}`);
        } catch (error) {
          failures.push(String(error));
        }
        ms.push(Date.now() - started);
        await sleep(20);
      }
    });
    return {
      async stop() {
        running = false;
        await Promise.all(workers);
        return { ms, failures };
      },
    };
  }

  /** A fresh mTLS handshake is served: readiness over HTTP/1.1 (curl) and a valid Authorize over HTTP/2. */
  async function healthy(): Promise<boolean> {
    const readyz = await curlTls(pki, good, [`https://localhost:${port}/readyz`]);
    const fresh = createClients(`https://localhost:${port}`, nodeTls(pki, good));
    const answer = await fresh.authorization.authorize({ authorization: `Bearer ${reader}`, resource: RESOURCE }, { timeoutMs: 3000 });
    return readyz.status === 200 && answer.decision === Decision.ALLOW;
  }

  /** Runs `attack` beside valid traffic, then checks the server and records the row. */
  async function campaign(name: string, attack: () => Promise<CaseResult>): Promise<void> {
    const logFrom = server.output().length;
    const traffic = validTraffic();
    await sleep(200);
    const result = await attack();
    const valid = await traffic.stop();
    const output = server.output().slice(logFrom);
    recordRow({
      test: `TLS handshake: ${name}`,
      operations: result.attempts + valid.ms.length,
      faults: 0,
      badInputs: result.attempts,
      wrongfulAllows: result.allowed,
      tokensLost: 0,
      secretsLeaked: leakedSecrets(server.output(), [reader, rootToken]),
      recoverySeconds: null,
      p99DuringFaultMs: percentile(valid.ms, 99),
    });
    expect(valid.failures).toEqual([]);
    expect(valid.ms.length).toBeGreaterThan(0);
    expect(await healthy()).toBe(true);
    expect(output).not.toMatch(STACK_FRAME);
    expect(server.child.exitCode).toBeNull();
  }

  it("answers garbage in place of a ClientHello with an alert or nothing and closes the connection", async () => {
    await campaign("garbage instead of a ClientHello", async () => {
      const inputs = [
        ...Array.from({ length: 10 }, (_, index) => randomBytes(16 << index)),
        Buffer.from(http1Authorize(reader), "latin1"),
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
        // A handshake record announcing 64 KiB, a record type that does not exist, SSLv2's hello header.
        Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),
        Buffer.from([0x63, 0x03, 0x03, 0x00, 0x10, ...randomBytes(16)]),
        Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]),
      ];
      const exchanges = await Promise.all(inputs.map((bytes) => rawExchange(port, bytes, { halfClose: true, waitMs: 5000 })));
      expect(exchanges.filter((exchange) => !alertOrNothing(exchange)).map((exchange) => exchange.reply.subarray(0, 40).toString("latin1"))).toEqual([]);
      expect(exchanges.filter((exchange) => exchange.closedAfterMs === null)).toEqual([]);
      return { attempts: inputs.length, allowed: exchanges.filter(allowedIn).length };
    });
  });

  it("closes a truncated or corrupted ClientHello with an alert or nothing", async () => {
    await campaign("truncated or corrupted ClientHello", async () => {
      const cuts = [1, 5, 9, 43, Math.floor(clientHello.length / 2), clientHello.length - 1];
      const truncated = cuts.map((cut) => clientHello.subarray(0, cut));
      const corrupted = [9, 43, 44, Math.floor(clientHello.length / 2)].map((offset) => {
        const copy = Buffer.from(clientHello);
        copy[offset] = copy[offset]! ^ 0xff;
        return copy;
      });
      // The record says it is longer than the hello it carries, and then shorter.
      const lying = [clientHello.readUInt16BE(3) + 100, clientHello.readUInt16BE(3) - 100].map((length) => {
        const copy = Buffer.from(clientHello);
        copy.writeUInt16BE(length, 3);
        return copy;
      });
      const inputs = [...truncated, ...corrupted, ...lying];
      const exchanges = await Promise.all(inputs.map((bytes) => rawExchange(port, bytes, { halfClose: true, waitMs: 5000 })));
      expect(exchanges.filter((exchange) => exchange.closedAfterMs === null)).toEqual([]);
      // A corrupted byte may land where the server ignores it and answers a ServerHello; a finished handshake needs the client's key, which never comes.
      expect(exchanges.filter((exchange) => exchange.reply.toString("latin1").includes("HTTP/"))).toEqual([]);
      return { attempts: inputs.length, allowed: exchanges.filter(allowedIn).length };
    });
  });

  it("drops a client that sends its ClientHello and then nothing, once the handshake deadline has passed", async () => {
    await campaign("a ClientHello, then silence", async () => {
      const exchanges = await Promise.all(
        Array.from({ length: 3 }, () => rawExchange(port, clientHello, { halfClose: false, waitMs: HANDSHAKE_DEADLINE_MS + DROP_MARGIN_MS })),
      );
      const closed = exchanges.map((exchange) => exchange.closedAfterMs);
      console.info(`silent handshakes dropped after ${closed.map((after) => (after === null ? "never" : `${(after / 1000).toFixed(1)} s`)).join(", ")}`);
      for (const after of closed) {
        expect(after).not.toBeNull();
        expect(after!).toBeGreaterThanOrEqual(HANDSHAKE_DEADLINE_MS - 500);
      }
      // It was answered (a ServerHello), only never finished.
      expect(exchanges.every((exchange) => exchange.reply[0] === 0x16)).toBe(true);
      return { attempts: exchanges.length, allowed: exchanges.filter(allowedIn).length };
    });
  });

  it("refuses TLS 1.0 and TLS 1.1 clients with a protocol_version alert (tls.min_version)", async () => {
    await campaign("TLS 1.0 / 1.1-only clients", async () => {
      const versions: [tls.SecureVersion, tls.SecureVersion][] = [
        ["TLSv1", "TLSv1"],
        ["TLSv1.1", "TLSv1.1"],
        ["TLSv1", "TLSv1.1"],
      ];
      // SECLEVEL=0: node's own OpenSSL would not even offer these versions otherwise.
      const exchanges = await Promise.all(
        versions.map(([minVersion, maxVersion]) =>
          tlsExchange(port, { ...nodeTls(pki, good), minVersion, maxVersion, ciphers: "DEFAULT@SECLEVEL=0" }, http1Authorize(reader)),
        ),
      );
      expect(exchanges.map((exchange) => exchange.secured)).toEqual(versions.map(() => false));
      expect(exchanges.map((exchange) => exchange.error)).toEqual(versions.map(() => "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"));
      return { attempts: exchanges.length, allowed: exchanges.filter(allowedIn).length };
    });
  });

  for (const [label, client] of [
    ["no client certificate", () => undefined],
    ["a client certificate from another CA", () => otherCa.client("stranger", ["DNS:gateway.example"])],
    ["an expired client certificate", () => pki.expired("expired-gateway", "client", ["DNS:gateway.example"])],
  ] as const) {
    it(`refuses a client with ${label} during the handshake: its valid bearer never reaches a route`, async () => {
      await campaign(label, async () => {
        const presented = client();
        const options: tls.ConnectionOptions = {
          ca: pki.read(pki.ca.cert),
          ...(presented === undefined ? {} : { cert: readFileSync(presented.cert), key: readFileSync(presented.key) }),
        };
        const exchanges = await Promise.all(
          (["http/1.1", "h2", undefined] as const).map((alpn) =>
            tlsExchange(port, { ...options, ...(alpn === undefined ? {} : { ALPNProtocols: [alpn] }) }, http1Authorize(reader)),
          ),
        );
        const stranger = createClients(`https://localhost:${port}`, options);
        const overConnect = await stranger.authorization.authorize({ authorization: `Bearer ${reader}`, resource: RESOURCE }, { timeoutMs: 3000 }).then(
          (answer) => (answer.decision === Decision.ALLOW ? "allowed" : "answered"),
          () => "refused",
        );
        const overCurl = await curlTls(pki, presented, [`https://localhost:${port}/readyz`]);
        // TLS 1.3 finishes the client's side before the server has read its certificate: the refusal is the alert that follows.
        expect(exchanges.filter((exchange) => !alertOrNothing(exchange)).map((exchange) => exchange.reply.subarray(0, 40).toString("latin1"))).toEqual([]);
        expect(overConnect).toBe("refused");
        expect(overCurl.status).toBe(0);
        return { attempts: exchanges.length + 2, allowed: exchanges.filter(allowedIn).length + (overConnect === "allowed" ? 1 : 0) };
      });
    });
  }

  it("routes ALPN h2 to HTTP/2 and http/1.1 or none to HTTP/1.1, refuses other protocols, and never serves a request in the protocol ALPN did not choose", async () => {
    await campaign("ALPN http/1.1 vs h2 vs none, and mismatches", async () => {
      const options = nodeTls(pki, good);
      const request = http1Authorize(reader);
      // The right protocol for the ALPN: answered, and allowed.
      for (const alpn of [["http/1.1"], undefined]) {
        const served = await tlsExchange(port, { ...options, ...(alpn === undefined ? {} : { ALPNProtocols: alpn }) }, request);
        expect(served.reply.toString("latin1")).toMatch(/^HTTP\/1\.1 200/);
        expect(allowedIn(served)).toBe(true);
      }
      const bad = await Promise.all([
        // Protocols the port does not speak: refused in the handshake (no_application_protocol).
        ...[["spdy/3"], ["h2c"], ["http/1.0"], ["acme-tls/1"]].map((alpn) => tlsExchange(port, { ...options, ALPNProtocols: alpn }, request)),
        // HTTP/1.1 on a connection ALPN made HTTP/2, and HTTP/2's preface on one made HTTP/1.1 (or left without ALPN).
        tlsExchange(port, { ...options, ALPNProtocols: ["h2"] }, request),
        tlsExchange(port, { ...options, ALPNProtocols: ["http/1.1"] }, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${request}`),
        tlsExchange(port, options, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${request}`),
      ]);
      expect(bad.slice(0, 4).map((exchange) => exchange.error)).toEqual(Array.from({ length: 4 }, () => "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL"));
      expect(bad.slice(4).every((exchange) => exchange.closedAfterMs !== null)).toBe(true);
      return { attempts: bad.length, allowed: bad.filter(allowedIn).length };
    });
  });

  it(`bounds ${HALF_OPEN} half-open handshakes at once: valid traffic flows beside them and the server drops them all at the deadline`, async () => {
    await campaign(`${HALF_OPEN} half-open handshakes at once`, async () => {
      const exchanges = Array.from({ length: HALF_OPEN }, (_, index) =>
        rawExchange(port, index % 2 === 0 ? clientHello.subarray(0, 60) : Buffer.alloc(0), { halfClose: false, waitMs: HANDSHAKE_DEADLINE_MS + DROP_MARGIN_MS }),
      );
      await sleep(1000);
      // While they are all held open, a new client still gets through its handshake.
      expect(await healthy()).toBe(true);
      const settled = await Promise.all(exchanges);
      const closed = settled.map((exchange) => exchange.closedAfterMs).filter((after): after is number => after !== null);
      console.info(`${HALF_OPEN} half-open handshakes: ${closed.length} dropped by the server, the last after ${(Math.max(...closed) / 1000).toFixed(1)} s`);
      expect(closed.length).toBe(HALF_OPEN);
      return { attempts: HALF_OPEN, allowed: settled.filter(allowedIn).length };
    });
  });
});
