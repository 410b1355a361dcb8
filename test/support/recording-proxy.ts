/**
 * An HTTP proxy on 127.0.0.1 port 0 that forwards every request to `target` unchanged and records it
 * (X-Amz-Target, method and path): what a client really sent, observed on the wire rather than inside
 * the client.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  readonly url: string;
  /** X-Amz-Target of each request, in arrival order (`-` when absent). */
  readonly targets: string[];
  /** `<METHOD> <path>` of each request, in arrival order (REST APIs such as Lambda's). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const targets: string[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    targets.push(String(req.headers['x-amz-target'] ?? '-'));
    requests.push(`${req.method} ${decodeURIComponent((req.url ?? '').split('?')[0]!)}`);
    const out = request(
      { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
