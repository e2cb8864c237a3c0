import net from 'node:net';

export interface RawResponse {
  /** null when the server closed the connection without an answer. */
  status: number | null;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes exactly as given (request line, headers and body may be anything) and reads one response until the
 * server closes the connection. A large body is written in slices and writing stops as soon as an answer arrives, as a
 * real client does when a server refuses early (413): the refusal must still be readable.
 */
export function rawExchange(port: number, head: string | Buffer, body: Buffer | null = null, timeoutMs = 20_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let answered = false;
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head);
      if (!body) return;
      let offset = 0;
      const pump = () => {
        while (!answered && offset < body.length) {
          const slice = body.subarray(offset, offset + 64 * 1024);
          offset += slice.length;
          if (!socket.write(slice)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms to ${String(head).split('\r\n')[0].slice(0, 120)}`)));
    socket.on('data', (d: Buffer) => {
      answered = true;
      chunks.push(d);
    });
    // A server that answers and closes while we still write makes writes fail with EPIPE/ECONNRESET: the answer counts.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (chunks.length || err.code === 'ECONNRESET' || err.code === 'EPIPE') finish();
      else reject(err);
    });
    socket.on('close', finish);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('latin1');
      if (!text) {
        resolve({ status: null, headers: {}, body: '' });
        return;
      }
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let payload = split === -1 ? '' : text.slice(split + 4);
      if (headers['transfer-encoding'] === 'chunked') payload = unchunk(payload);
      resolve({ status: Number(statusLine.split(' ')[1]) || null, headers, body: Buffer.from(payload, 'latin1').toString('utf8') });
    }
  });
}

function unchunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    if (eol === -1) return out;
    const size = parseInt(s.slice(i, eol), 16);
    if (!size) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

/** A request head with `Connection: close`, so the server ends the exchange after one answer. */
export function head(method: string, target: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
