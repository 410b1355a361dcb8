/**
 * Steady demo traffic for `npm start`: external calls to the entry service (which calls the rest of the
 * mesh), plus occasional attempts on an edge the policy denies. Each request goes over the wire through
 * the real AWS SDK, as any client's would.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { META } from '../shared/names';

export interface TrafficRequest {
  /** What the request is, for counters. */
  readonly label: string;
  readonly functionName: string;
  readonly payload: unknown;
  /** Mesh metadata to claim (`custom.mesh`), for edges driven from outside a function. */
  readonly meshSource?: string;
  /** Share of requests, relative to the other entries. */
  readonly weight: number;
}

export interface TrafficOptions {
  readonly url: string;
  readonly plan: readonly TrafficRequest[];
  /** Target requests per second over all loops. @default 20 */
  readonly rps?: number;
  /** Concurrent request loops. @default 4 */
  readonly concurrency?: number;
}

export interface Traffic {
  /** Per label: `denied` counts answers that report a policy denial (`{"denied": true}`), also counted ok. */
  readonly counters: Record<string, { sent: number; ok: number; failed: number; denied: number }>;
  stop(): Promise<void>;
}

/** The demo's frontend answers `{"denied": true, ...}` when its own mesh refused a call. */
function reportsDenial(payload: Uint8Array | undefined): boolean {
  if (!payload || payload.length > 4096) return false;
  try {
    return (JSON.parse(Buffer.from(payload).toString('utf8')) as { denied?: unknown })?.denied === true;
  } catch {
    return false;
  }
}

export function startTraffic(options: TrafficOptions): Traffic {
  const client = new LambdaClient({
    endpoint: options.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const counters: Traffic['counters'] = {};
  const concurrency = options.concurrency ?? 4;
  const gapMs = (1000 * concurrency) / (options.rps ?? 20);
  let running = true;

  // Loops join one by one: a burst of parallel cold starts at t=0 would time out on a busy machine.
  const loop = async (_: unknown, index: number) => {
    const joinAt = Date.now() + index * 2000;
    while (running && Date.now() < joinAt) await new Promise((res) => setTimeout(res, 100));
    while (running) {
      const started = Date.now();
      const r = pickRequest(options.plan, Math.random());
      counters[r.label] ??= { sent: 0, ok: 0, failed: 0, denied: 0 };
      await send(client, r, counters[r.label]);
      const wait = gapMs * (0.5 + Math.random()) - (Date.now() - started);
      if (running && wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    counters,
    async stop() {
      running = false;
      await Promise.allSettled(loops);
      client.destroy();
    },
  };
}

/** A request of the plan, by weight; `draw` is in [0, 1). */
function pickRequest(plan: readonly TrafficRequest[], draw: number): TrafficRequest {
  let left = draw * plan.reduce((a, r) => a + r.weight, 0);
  for (const r of plan) {
    left -= r.weight;
    if (left < 0) return r;
  }
  return plan[plan.length - 1];
}

/** One Invoke, counted: a function error or a failed call is `failed`; a denial the caller reports is `denied`. */
async function send(
  client: LambdaClient,
  r: TrafficRequest,
  c: { sent: number; ok: number; failed: number; denied: number },
): Promise<void> {
  c.sent++;
  try {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: r.functionName,
        Payload: Buffer.from(JSON.stringify(r.payload)),
        ClientContext: r.meshSource
          ? Buffer.from(JSON.stringify({ custom: { [META.clientContextKey]: { v: 1, src: r.meshSource } } })).toString(
              'base64',
            )
          : undefined,
      }),
    );
    if (out.FunctionError) c.failed++;
    else {
      c.ok++;
      if (reportsDenial(out.Payload)) c.denied++;
    }
  } catch {
    c.failed++;
  }
}
