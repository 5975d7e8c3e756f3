import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";

/** What a network scanner tells apart: the kinds of thing that may listen at an address. */
export interface ProbeTarget {
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP service that is not HTTP: it greets like an SSH server and hangs up. */
export function nonHttpService(): Promise<ProbeTarget> {
  return listening(createServer((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n")));
}

/** An HTTP server answering every request with `status` and a plain-text body. */
export function httpService(status: number): Promise<ProbeTarget> {
  return listening(createHttpServer((_request, response) => response.writeHead(status, { "content-type": "text/plain" }).end(`status ${status}`)));
}

async function listening(server: Server): Promise<ProbeTarget> {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
