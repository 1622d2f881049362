/**
 * An HTTP proxy in front of a test registry that records each request (and its Range header) and can cut
 * the connection of one response after some bytes, as a dropped network does, or replace one response's
 * body (its other headers, Docker-Content-Digest included, kept), as a tampering one does.
 */
import { request, createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface CuttingProxy {
  host: string;
  requests: { method: string; url: string; range?: string }[];
  /** The next response whose path ends with `suffix` is cut after `bytes` bytes of its body. */
  cutOnce(suffix: string, bytes: number): void;
  /** The next response whose path ends with `suffix` stops after `bytes` bytes, its connection kept open. */
  stallOnce(suffix: string, bytes: number): void;
  /** The next response whose path ends with `suffix` has `body` instead of its own. */
  replaceOnce(suffix: string, body: Buffer): void;
  stop(): Promise<void>;
}

export async function startCuttingProxy(targetPort: number): Promise<CuttingProxy> {
  let cut: { suffix: string; bytes: number; stall?: boolean } | undefined;
  let replace: { suffix: string; body: Buffer } | undefined;
  const requests: CuttingProxy['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const range = req.headers['range'];
    requests.push({ method: req.method ?? 'GET', url, ...(typeof range === 'string' ? { range } : {}) });
    const cutThis = cut !== undefined && url.endsWith(cut.suffix) ? cut : undefined;
    if (cutThis) cut = undefined;
    const replaceThis = replace !== undefined && url.endsWith(replace.suffix) ? replace : undefined;
    if (replaceThis) replace = undefined;
    const up = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: url,
        headers: { ...req.headers, host: `127.0.0.1:${targetPort}` },
      },
      (upRes) => {
        if (replaceThis) {
          upRes.resume();
          res.writeHead(upRes.statusCode ?? 502, {
            ...upRes.headers,
            'content-length': String(replaceThis.body.length),
          });
          res.end(replaceThis.body);
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (!cutThis) {
          upRes.pipe(res);
          return;
        }
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= cutThis.bytes) return;
          const part = chunk.subarray(0, cutThis.bytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= cutThis.bytes) {
            upRes.destroy();
            if (!cutThis.stall) res.socket?.destroy();
          }
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    cutOnce: (suffix, bytes) => (cut = { suffix, bytes }),
    stallOnce: (suffix, bytes) => (cut = { suffix, bytes, stall: true }),
    replaceOnce: (suffix, body) => (replace = { suffix, body }),
    stop: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
