/**
 * A loopback CloudWatch fed from the EMF lines a local mesh's workers print: what `mesh stat` would
 * read in AWS for the same traffic. `feed` takes a worker's stdout line; `url` answers ListMetrics and
 * GetMetricData (test/support/cloudwatch-metrics.ts) and has no `/_mesh/` routes, so the CLI reads it
 * as CloudWatch.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEmf } from '../../local/telemetry/emf-parser';
import { METRICS } from '../../shared/names';
import { CloudWatchMetrics } from './cloudwatch-metrics';

export class LoopbackCloudWatch {
  readonly metrics = new CloudWatchMetrics(METRICS.namespace, 100);
  private server: Server | undefined;

  /** Every mesh metric of one EMF line, at the time the line names; other lines are left out. */
  feed(line: string): void {
    if (!line.includes('"_aws"')) return;
    const emf = parseEmf(JSON.parse(line));
    if (!emf.ok) return;
    for (const m of emf.samples) {
      if (m.namespace !== METRICS.namespace) continue;
      for (const v of m.values) this.metrics.put(m.name, m.dimensions, v, m.timestamp);
    }
  }

  /** Listens on 127.0.0.1 (a free port) and returns the endpoint URL. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const answer = req.url?.startsWith('/_mesh/')
          ? undefined
          : this.metrics.handle(String(req.headers['x-amz-target'] ?? ''), body);
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
