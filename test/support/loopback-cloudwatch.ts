/**
 * A loopback CloudWatch fed from the EMF lines a local mesh's workers print: what `mesh stat` would
 * read in AWS for the same traffic. `feed` takes a worker's stdout line; `url` answers ListMetrics and
 * GetMetricData (test/support/cloudwatch-metrics.ts), each mesh's metrics in its own namespace, and has
 * no `/_mesh/` routes, so the CLI reads it as CloudWatch. The Lambda API (ListFunctions, which the CLI
 * reads to find the mesh and so its namespace) is passed on to the endpoint `listen` names, as the same
 * endpoint URL reaches every AWS service.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { isMeshNamespace, metricNamespace } from '../../shared/names';
import { CloudWatchMetrics } from './cloudwatch-metrics';

export class LoopbackCloudWatch {
  readonly metrics = new CloudWatchMetrics(metricNamespace('shop'), 100);
  private server: Server | undefined;

  /** Every mesh metric of one EMF line, in its namespace, at the time the line names; other lines are left out. */
  feed(line: string): void {
    if (!line.includes('"_aws"')) return;
    const emf = parseEmf(JSON.parse(line));
    if (!emf.ok) return;
    for (const m of emf.samples) {
      if (!isMeshNamespace(m.namespace)) continue;
      for (const v of m.values) this.metrics.put(m.name, m.dimensions, v, m.timestamp, m.namespace);
    }
  }

  /** Listens on 127.0.0.1 (a free port) and returns the endpoint URL; `lambda`: where Lambda API calls go. */
  async listen(lambda?: string): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (lambda && req.url?.startsWith('/2015-03-31/')) {
          const answer = await forward(lambda, req, body);
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await answer.arrayBuffer()));
          return;
        }
        const answer = req.url?.startsWith('/_mesh/')
          ? undefined
          : this.metrics.handle(String(req.headers['x-amz-target'] ?? ''), body.toString());
        res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(answer ?? { message: 'Not Found' }));
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** The request as it came, sent on to `endpoint` (its headers but the host and the body's framing). */
function forward(endpoint: string, req: IncomingMessage, body: Buffer): Promise<Response> {
  const headers = Object.entries(req.headers).filter(
    (e): e is [string, string] =>
      typeof e[1] === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(e[0]),
  );
  return fetch(`${endpoint}${req.url}`, {
    method: req.method,
    headers,
    ...(body.length > 0 ? { body } : {}),
  });
}
