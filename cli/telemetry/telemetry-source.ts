/**
 * Which telemetry source a command reads: the local mesh when the endpoint (--endpoint-url,
 * AWS_ENDPOINT_URL) is one, else AWS (CloudWatch and X-Ray, also behind LocalStack). Chosen once per
 * command; both sources answer through the one TelemetrySource interface.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { XRayClient } from '@aws-sdk/client-xray';
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import type { TelemetrySource } from '../../shared/telemetry/telemetry-source';
import type { Trace, TraceSummary } from '../../shared/telemetry/trace-assembler';
import type { TraceFilter } from '../../shared/telemetry/trace-filter';
import type { AwsFlags } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { cloudWatchStats } from './cloudwatch-stats';
import { LocalMeshTelemetry, localMeshEndpoint } from './local-mesh-telemetry';
import { xraySummaries, xrayTrace } from './xray-traces';

/** How far back X-Ray is searched for traces unless a command says otherwise. */
export const DEFAULT_TRACE_WINDOW_MS = 15 * 60_000;

export interface TelemetryOptions {
  /** X-Ray only: how far back to look for traces. @default 15 min */
  readonly traceWindowMs?: number;
}

export async function pickTelemetrySource(
  flags: Pick<AwsFlags, 'mesh' | 'region' | 'endpointUrl'>,
  ctx: CliContext,
  options: TelemetryOptions = {},
): Promise<TelemetrySource> {
  const clients = ctx.clients(flags);
  const endpoint = await localMeshEndpoint(clients);
  if (endpoint) return new LocalMeshTelemetry(endpoint, flags.mesh);
  // Metrics are the mesh's own namespace: found (ListFunctions, --mesh) when stats are first read.
  let meshName: Promise<string> | undefined;
  const mesh = () => (meshName ??= ctx.discover(flags).then((d) => d.mesh.name));
  return new AwsTelemetry(clients, options.traceWindowMs ?? DEFAULT_TRACE_WINDOW_MS, mesh);
}

/** CloudWatch for metrics and X-Ray for traces; one SDK client per call, closed after it. */
export class AwsTelemetry implements TelemetrySource {
  readonly kind = 'aws';

  constructor(
    private readonly clients: AwsClients,
    private readonly traceWindowMs: number,
    /** The mesh whose metrics `stats` reads (its namespace is its own). */
    private readonly meshName: () => Promise<string>,
  ) {}

  async stats(windowMs: number): Promise<StatsSnapshot> {
    const meshName = await this.meshName();
    const { CloudWatchClient } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
    return this.with(new CloudWatchClient(await this.clients.config('CLOUDWATCH')), (cw) =>
      cloudWatchStats(cw, meshName, windowMs),
    );
  }

  async traces(limit: number, filter: TraceFilter = {}): Promise<TraceSummary[]> {
    return this.with(await this.xray(), (x) => xraySummaries(x, this.traceWindowMs, limit, filter));
  }

  /** `last` = the newest complete trace X-Ray lists in the trace window (not one still under way). */
  async trace(id: string): Promise<Trace | undefined> {
    return this.with(await this.xray(), async (x) => {
      const newest = async () => (await xraySummaries(x, this.traceWindowMs, 20)).find((t) => t.complete)?.id;
      const traceId = id === 'last' ? await newest() : id;
      return traceId ? xrayTrace(x, traceId) : undefined;
    });
  }

  private async xray(): Promise<XRayClient> {
    const { XRayClient } = require('@aws-sdk/client-xray') as typeof import('@aws-sdk/client-xray');
    return new XRayClient(await this.clients.config('XRAY'));
  }

  private async with<C extends CloudWatchClient | XRayClient, T>(client: C, use: (c: C) => Promise<T>): Promise<T> {
    try {
      return await use(client);
    } finally {
      client.destroy();
    }
  }
}
