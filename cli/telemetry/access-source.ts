/**
 * Where `mesh tap` reads the access log from: the local mesh's `/_mesh/access` (its functions' lines as
 * they print them), or CloudWatch Logs, where Lambda ships the same lines (FilterLogEvents over each
 * mesh function's log group, with a JSON filter pattern that keeps the access-log lines only: Amazon
 * CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription filters, filter log
 * events, and Live Tail"). Both give the lines that arrived since the last read, oldest first.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { type AccessEntry, parseAccessLine } from '../../shared/telemetry/access-log';
import { MESH_ROUTES } from '../../shared/telemetry/local-mesh-routes';
import type { AwsClients } from '../aws-clients';
import { awsCall } from '../errors';
import type { MeshService } from '../mesh-discovery';
import { localMeshJson } from './local-mesh-telemetry';

export interface AccessSource {
  readonly kind: 'local' | 'cloudwatch-logs';
  /** How long to wait between reads: the local mesh answers at once, CloudWatch Logs in seconds. */
  readonly pollMs: number;
  /** Marks "now": the first read gives the lines that came after it. */
  start(): Promise<void>;
  /** The lines since the last read (or since `start`), oldest first. */
  read(): Promise<AccessEntry[]>;
  close(): void;
}

/** The local mesh's access log, from a cursor. */
export class LocalAccessSource implements AccessSource {
  readonly kind = 'local';
  readonly pollMs = 250;
  private cursor = 0;

  constructor(private readonly endpoint: string) {}

  /** Without a cursor the mesh answers no lines, and the number of its newest. */
  async start(): Promise<void> {
    this.cursor = (await this.get(undefined)).next ?? 0;
  }

  async read(): Promise<AccessEntry[]> {
    const answer = await this.get(this.cursor);
    if (typeof answer.next === 'number') this.cursor = answer.next;
    return answer.entries ?? [];
  }

  private async get(after: number | undefined): Promise<{ entries?: AccessEntry[]; next?: number }> {
    return (await localMeshJson(this.endpoint, MESH_ROUTES.access(after))) ?? {};
  }

  close(): void {}
}

/** The log group Lambda writes a function's lines to: its own setting, else `/aws/lambda/<name>`. */
export function logGroupOf(s: Pick<MeshService, 'functionName' | 'logGroup'>): string {
  return s.logGroup ?? `/aws/lambda/${s.functionName}`;
}

/** Only the access-log lines: a JSON filter pattern on the `type` field. */
export const ACCESS_FILTER_PATTERN = '{ $.type = "mesh-access" }';

/**
 * Lines reach CloudWatch Logs seconds after they are printed, out of order across log streams: each read
 * looks back this far before the newest line seen, and drops the events it has already shown (by id).
 */
const LOOKBACK_MS = 15_000;

/** CloudWatch Logs: FilterLogEvents over the given log groups, polled. */
export class CloudWatchAccessSource implements AccessSource {
  readonly kind = 'cloudwatch-logs';
  readonly pollMs = 2_000;
  /** Event ids shown, with their timestamps, for as long as a read may return them again. */
  private readonly seen = new Map<string, number>();
  private from = Date.now();

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly logGroups: readonly string[],
  ) {}

  async start(): Promise<void> {
    this.from = Date.now();
  }

  async read(): Promise<AccessEntry[]> {
    const startTime = this.from - LOOKBACK_MS;
    const events = (await Promise.all(this.logGroups.map((g) => this.filter(g, startTime)))).flat();
    const fresh = events.filter((e) => e.id && e.timestamp >= this.from - LOOKBACK_MS && !this.seen.has(e.id));
    for (const e of fresh) this.seen.set(e.id, e.timestamp);
    this.from = Math.max(this.from, ...fresh.map((e) => e.timestamp));
    for (const [id, t] of this.seen) if (t < this.from - LOOKBACK_MS) this.seen.delete(id);
    return fresh
      .sort((a, b) => a.timestamp - b.timestamp)
      .flatMap((e) => {
        const entry = parseAccessLine(e.message.trim());
        return entry ? [entry] : [];
      });
  }

  /** Every page of one log group's matching events since `startTime`. */
  private async filter(logGroupName: string, startTime: number) {
    const { FilterLogEventsCommand } =
      require('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs');
    const out: { id: string; timestamp: number; message: string }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await awsCall('CloudWatch Logs FilterLogEvents', () =>
        this.logs.send(
          new FilterLogEventsCommand({ logGroupName, startTime, filterPattern: ACCESS_FILTER_PATTERN, nextToken }),
        ),
      ).catch((err: { code?: string }) => {
        // A function that never ran has no log group yet: nothing to show from it.
        if (err.code === 'ResourceNotFoundException') return { events: [], nextToken: undefined };
        throw err;
      });
      for (const e of page.events ?? [])
        out.push({ id: e.eventId ?? '', timestamp: e.timestamp ?? 0, message: e.message ?? '' });
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  close(): void {
    this.logs.destroy();
  }
}

/** CloudWatch Logs for these services' functions. */
export async function cloudWatchAccessSource(
  clients: AwsClients,
  services: readonly MeshService[],
): Promise<AccessSource> {
  const { CloudWatchLogsClient } =
    require('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs');
  const logs = new CloudWatchLogsClient(await clients.config('CLOUDWATCH_LOGS'));
  return new CloudWatchAccessSource(logs, [...new Set(services.map(logGroupOf))]);
}
