/**
 * An HTTP proxy on 127.0.0.1 port 0 that forwards every request to `target` unchanged and records it
 * (X-Amz-Target, method and path): what a client really sent, observed on the wire rather than inside
 * the client.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  readonly url: string;
  /** X-Amz-Target of each request, in arrival order (`-` when absent). */
  readonly targets: string[];
  /** `<METHOD> <path>` of each request, in arrival order (REST APIs such as Lambda's). */
  readonly requests: string[];
  /**
   * `<METHOD> <path>` of each request whose answer has been passed back whole, in that order: what the
   * client has been told, where `requests` is only what it asked (its answer may still be on its way).
   */
  readonly answered: string[];
  close(): Promise<void>;
}

/**
 * `answerInstead`: called for each request after it is recorded; where it answers the request itself
 * (an injected failure) it returns true, and nothing is forwarded.
 */
export async function startRecordingProxy(
  target: string,
  answerInstead?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<RecordingProxy> {
  const to = new URL(target);
  const targets: string[] = [];
  const requests: string[] = [];
  const answered: string[] = [];
  const server = createServer((req, res) => {
    const what = `${req.method} ${decodeURIComponent((req.url ?? '').split('?')[0]!)}`;
    targets.push(String(req.headers['x-amz-target'] ?? '-'));
    requests.push(what);
    if (answerInstead?.(req, res)) return;
    const out = request(
      { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('end', () => answered.push(what));
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
    answered,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
