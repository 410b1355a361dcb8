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
  /**
   * Marks "now": the first read gives the lines that came after it; with `sinceMs`, the lines of that
   * window before them. Answers the time up to which lines of the window are gone, if any are.
   */
  start(sinceMs?: number): Promise<number | undefined>;
  /** The lines since the last read (or since `start`), oldest first. */
  read(): Promise<AccessEntry[]>;
  close(): void;
}

/** The local mesh's access log, from a cursor. */
export class LocalAccessSource implements AccessSource {
  readonly kind = 'local';
  readonly pollMs = 250;
  private cursor = 0;
  /** The window's first lines, answered by `start`, for the first read. */
  private held: AccessEntry[] = [];

  constructor(private readonly endpoint: string) {}

  /** Without a cursor the mesh answers no lines, and the number of its newest; with `since`, the window's. */
  async start(sinceMs?: number): Promise<number | undefined> {
    const answer = await this.get(
      sinceMs === undefined ? MESH_ROUTES.access(undefined) : MESH_ROUTES.accessSince(sinceMs),
    );
    this.cursor = answer.next ?? 0;
    this.held = answer.entries ?? [];
    return answer.droppedUntil;
  }

  async read(): Promise<AccessEntry[]> {
    if (this.held.length) return this.held.splice(0);
    const answer = await this.get(MESH_ROUTES.access(this.cursor));
    if (typeof answer.next === 'number') this.cursor = answer.next;
    return answer.entries ?? [];
  }

  private async get(route: string): Promise<{ entries?: AccessEntry[]; next?: number; droppedUntil?: number }> {
    return (await localMeshJson(this.endpoint, route)) ?? {};
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

/** Pure: where a read starts, LOOKBACK_MS before the newest line seen, never before the window's start. */
function readStart(newestSeen: number, floor: number): number {
  return Math.max(newestSeen - LOOKBACK_MS, floor);
}

/** CloudWatch Logs: FilterLogEvents over the given log groups, polled. */
export class CloudWatchAccessSource implements AccessSource {
  readonly kind = 'cloudwatch-logs';
  readonly pollMs = 2_000;
  /** Event ids shown, with their timestamps, for as long as a read may return them again. */
  private readonly seen = new Map<string, number>();
  private from = Date.now();
  /** With --since, the window's start: nothing older shows, however far a read looks back. */
  private floor = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly logGroups: readonly string[],
  ) {}

  /** With `sinceMs`, the first read asks from the window's start (every page of it). */
  async start(sinceMs?: number): Promise<undefined> {
    this.from = Date.now();
    if (sinceMs !== undefined) this.from = this.floor = this.from - sinceMs;
    return undefined;
  }

  async read(): Promise<AccessEntry[]> {
    const startTime = readStart(this.from, this.floor);
    const events = (await Promise.all(this.logGroups.map((g) => this.filter(g, startTime)))).flat();
    const fresh = events.filter((e) => e.id && e.timestamp >= startTime && !this.seen.has(e.id));
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
