/**
 * HTTP/1.x over a bare TCP socket. `fetch` cannot send what hostile clients send: it fixes the
 * `Host` header, resolves `..` in paths, refuses odd methods and rewrites request lines. This sends
 * the bytes as given and reads whatever comes back until the server closes (or `timeoutMs`).
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code, or 0 when the server closed the connection without an HTTP answer. */
  status: number;
  /** Status line, headers and body as received (chunked framing left in). */
  text: string;
  timedOut: boolean;
}

function isComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = text.slice(0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) return text.length - end - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) return text.endsWith('\r\n0\r\n\r\n');
  return false;
}

/**
 * `halfClose` ends our side after writing: for a body shorter than its Content-Length, the server
 * then sees the client give up instead of waiting for bytes that never come.
 */
export function sendRaw(port: number, bytes: string | Uint8Array, timeoutMs = 15_000, halfClose = false): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () => {
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      if (halfClose) socket.end();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // Keep-alive servers do not close after answering: stop at the end of the first response.
      if (isComplete(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
        socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
  });
}
