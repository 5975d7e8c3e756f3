import net from "node:net";
import tls from "node:tls";

/** The request every exchange asks about: allowed for a `kafka:read` token under the test policy. */
export const RESOURCE = "GET /api/kafka/topics";

/** What a client saw of one connection: whether its side of the handshake finished, what came back, and when the server closed it. */
export interface Exchange {
  secured: boolean;
  reply: Buffer;
  /** Since the connection was opened; null when still open after the wait. */
  closedAfterMs: number | null;
  error?: string;
}

/** Opens TCP to `port`, writes `bytes` (then half-closes when asked), and reads until the server closes or `waitMs` pass. */
export function rawExchange(port: number, bytes: Buffer, options: { halfClose: boolean; waitMs: number }): Promise<Exchange> {
  return new Promise((resolve) => {
    const opened = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let closedAfterMs: number | null = null;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ secured: false, reply: Buffer.concat(chunks), closedAfterMs });
    };
    const timer = setTimeout(finish, options.waitMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closedAfterMs = Date.now() - opened;
      finish();
    });
    socket.write(bytes);
    if (options.halfClose) socket.end();
  });
}

/** A TLS client with `options`; once its side of the handshake is done it writes `request` and reads until closed or 5 s pass. */
export function tlsExchange(port: number, options: tls.ConnectionOptions, request: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const opened = Date.now();
    const chunks: Buffer[] = [];
    let secured = false;
    let error: string | undefined;
    let closedAfterMs: number | null = null;
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ...options }, () => {
      secured = true;
      socket.write(request);
    });
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ secured, reply: Buffer.concat(chunks), closedAfterMs, ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(finish, 5000);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
    socket.on("close", () => {
      closedAfterMs = Date.now() - opened;
      finish();
    });
  });
}

/** Authorize as Connect JSON over HTTP/1.1: what curl or a probe would send. */
export function http1Authorize(secret: string): string {
  const body = JSON.stringify({ authorization: `Bearer ${secret}`, resource: RESOURCE });
  return [
    "POST /portcullis.v1.AuthorizationService/Authorize HTTP/1.1",
    "Host: localhost",
    "Content-Type: application/json",
    "Connect-Protocol-Version: 1",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

export const allowedIn = (exchange: Exchange) => exchange.reply.toString("latin1").includes("DECISION_ALLOW");
/** Nothing, or a TLS alert record: never a byte of HTTP. */
export const alertOrNothing = (exchange: Exchange) => exchange.reply.length === 0 || exchange.reply[0] === 0x15;

/** The first flight of a real TLS client (node's, offering h2): a ClientHello in one record. */
export function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sink = net.createServer((socket) =>
      socket.once("data", (chunk: Buffer) => {
        socket.destroy();
        sink.close();
        resolve(chunk);
      }),
    );
    sink.listen(0, "127.0.0.1", () => {
      const { port } = sink.address() as net.AddressInfo;
      tls.connect({ host: "127.0.0.1", port, servername: "localhost", ALPNProtocols: ["h2"] }).on("error", () => undefined);
    });
    sink.once("error", reject);
  });
}
