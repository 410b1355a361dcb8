/**
 * The local mesh's collector as a telemetry source: its /_mesh/ routes over HTTP
 * (shared/telemetry/local-mesh-routes.ts).
 */
import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import { LOCAL_MESH_HEADER, MESH_ROUTE_PREFIX, MESH_ROUTES } from '../../shared/telemetry/local-mesh-routes';
import type { TelemetrySource } from '../../shared/telemetry/telemetry-source';
import type { Trace, TraceSummary } from '../../shared/telemetry/trace-assembler';
import type { TraceFilter } from '../../shared/telemetry/trace-filter';
import type { AwsClients } from '../aws-clients';
import { AwsCallError, CommandError, START_LOCAL_MESH } from '../errors';

const TIMEOUT_MS = 10_000;

/**
 * Whether `endpoint` is a local mesh: it marks every /_mesh/ answer, while LocalStack or AWS behind
 * the same URL answer without the mark. An endpoint that does not answer at all is an error.
 */
export async function isLocalMesh(endpoint: string): Promise<boolean> {
  const res = await request(endpoint, `${MESH_ROUTE_PREFIX}/stats`, 'HEAD');
  return res.headers.get(LOCAL_MESH_HEADER) !== null;
}

/** The local mesh's URL when the Lambda endpoint (--endpoint-url, AWS_ENDPOINT_URL) is one; else undefined. */
export async function localMeshEndpoint(clients: Pick<AwsClients, 'settings'>): Promise<string | undefined> {
  const endpoint = clients.settings.endpoints.LAMBDA?.replace(/\/+$/, '');
  return endpoint && (await isLocalMesh(endpoint)) ? endpoint : undefined;
}

/** The JSON a local mesh answers on one of its routes, or undefined when `endpoint` is no local mesh. */
export async function localMeshJson<T>(endpoint: string, path: string): Promise<T | undefined> {
  const res = await request(endpoint, path, 'GET');
  if (res.headers.get(LOCAL_MESH_HEADER) === null) return undefined;
  return parseJson<T>(endpoint, path, res.status, await res.text());
}

export class LocalMeshTelemetry implements TelemetrySource {
  readonly kind = 'local';

  constructor(
    private readonly endpoint: string,
    /** `--mesh`: that mesh's metrics only, where the local mesh runs several (all of them without it). */
    private readonly mesh?: string,
  ) {}

  async stats(windowMs: number): Promise<StatsSnapshot> {
    return ok<StatsSnapshot>(await this.get(MESH_ROUTES.stats(windowMs, this.mesh)), 'stats');
  }

  async traces(limit: number, filter?: TraceFilter): Promise<TraceSummary[]> {
    return ok<{ traces: TraceSummary[] }>(await this.get(MESH_ROUTES.traces(limit, filter)), 'traces').traces;
  }

  /** `last` is understood by the local mesh itself; a 404 means there is no such trace. */
  async trace(id: string): Promise<Trace | undefined> {
    const answer = await this.get(MESH_ROUTES.trace(id));
    return answer.status === 404 ? undefined : ok<Trace>(answer, 'traces');
  }

  private async get(path: string): Promise<Answer> {
    const res = await request(this.endpoint, path, 'GET');
    return { status: res.status, body: parseJson(this.endpoint, path, res.status, await res.text()) };
  }
}

function parseJson<T>(endpoint: string, path: string, status: number, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CommandError(
      `${endpoint}${path} answered ${status} with something that is not JSON; is it a local mesh of this version?`,
    );
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The body of a 200 answer; any other status is an error carrying the mesh's message. */
function ok<T>(answer: Answer, route: string): T {
  if (answer.status !== 200) {
    const message = (answer.body as { message?: string } | null)?.message ?? 'unexpected answer';
    throw new AwsCallError(`GET ${MESH_ROUTE_PREFIX}/${route}`, String(answer.status), message);
  }
  return answer.body as T;
}

async function request(endpoint: string, path: string, method: 'GET' | 'HEAD'): Promise<Response> {
  try {
    return await fetch(`${endpoint}${path}`, {
      method,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    const e = err as { cause?: { code?: string; message?: string }; message?: string };
    throw new CommandError(
      `cannot reach ${endpoint} (${e.cause?.code ?? e.cause?.message ?? e.message}); ${START_LOCAL_MESH}`,
    );
  }
}
