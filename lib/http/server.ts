import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface RunningServer {
  server: http.Server;
  port: number;
  url: string;
  /** Stops accepting, lets requests in flight finish for `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** What Node's HTTP parser refused, in the contract's error shape (Node would write a bare status line). */
const PARSER_ERRORS: Record<string, [status: number, reason: string, code: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request headers exceed 16 KB'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time'],
  HPE_HEADERS_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request headers did not arrive in time'],
};
const BAD_REQUEST: [number, string, string, string] = [400, 'Bad Request', 'bad_request', 'the request is not valid HTTP/1.1'];

/** Answers a request the parser refused with a JSON error, then closes the connection (Node's own default, in JSON). */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable || (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] = PARSER_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  // Read (and drop) what the client is still sending: closing on unread bytes makes the kernel send a reset, which
  // can discard the answer before the client reads it. The client closes once it has the answer; if not, we do.
  socket.resume();
  setTimeout(() => socket.destroy(), 5_000).unref();
}

/** Listens on 127.0.0.1 by default (port 0 = any free port) and closes idle keep-alive sockets on shutdown. */
export async function listen(
  handler: http.RequestListener,
  port: number,
  host = process.env.HOST ?? '127.0.0.1',
  /**
   * Several processes listen on the same port and the kernel spreads connections over them (SO_REUSEPORT, Linux);
   * `exclusive` keeps a cluster worker's socket its own instead of the primary's.
   */
  options: { reusePort?: boolean } = {},
): Promise<RunningServer> {
  const server = http.createServer(handler);
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, reusePort: options.reusePort, exclusive: options.reusePort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`,
    close: (graceMs = 3000) =>
      new Promise<void>((resolve) => {
        // Busy keep-alive connections never go idle under load: after a grace period for requests in flight, cut
        // them, or a process could not be stopped (or redeployed) while clients keep it busy.
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
