/**
 * The parts the outbound pipeline's stages run on, for unit tests of one stage: a real policy cache
 * over a snapshot, real breakers, budgets and telemetry (lines and segments captured), and a
 * transport that answers from the test (the wire itself is tested in test/integration).
 */
import { clientState } from '../../functions/mesh/client';
import type { InvocationScope } from '../../functions/mesh/invocation-scope';
import { authorize } from '../../functions/mesh/pipeline/authorize';
import {
  type CallOptions,
  type ClientDeps,
  type ClientState,
  type ReadyCall,
  startCall,
} from '../../functions/mesh/pipeline/call-context';
import type { AttemptPlan } from '../../functions/mesh/pipeline/retry';
import { connect } from '../../functions/mesh/pipeline/sign';
import { PolicyCache } from '../../functions/mesh/policy/policy-cache';
import { attemptTimeout } from '../../functions/mesh/resilience/deadline';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import type { SegmentDoc } from '../../functions/mesh/telemetry/xray-emitter';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';

export const T0 = 1_700_000_000_000;

/** The payments service, callable by orders. */
export const PAYMENTS = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

export interface RecordingTransport extends InvokeTransport {
  readonly requests: InvokeRequest[];
}

/** A transport that hands each request to `answer` and keeps it. */
export function transportOf(
  answer: (req: InvokeRequest) => Promise<InvokeResponse> | InvokeResponse,
): RecordingTransport {
  const requests: InvokeRequest[] = [];
  return {
    requests,
    invoke: async (req) => {
      requests.push(req);
      return answer(req);
    },
  };
}

export const ok = (body: unknown, executedVersion = '1'): InvokeResponse => ({
  statusCode: 200,
  executedVersion,
  payload: Buffer.from(JSON.stringify(body)),
});

export const functionError = (errorType: string, errorMessage: string, executedVersion = '1'): InvokeResponse => ({
  statusCode: 200,
  functionError: 'Unhandled',
  executedVersion,
  payload: Buffer.from(JSON.stringify({ errorType, errorMessage })),
});

export interface Fixture {
  readonly state: ClientState;
  readonly lines: string[];
  readonly segments: SegmentDoc[];
  /** The access-log lines, parsed. */
  accessLog(): Record<string, unknown>[];
  /** The moment the client's clock shows; move it with `clock.t`. */
  readonly clock: { t: number };
}

export function fixture(
  options: {
    items?: unknown[];
    transport?: InvokeTransport;
    scope?: InvocationScope;
    random?: () => number;
    sleep?: (ms: number) => Promise<void>;
    deps?: Partial<ClientDeps>;
  } = {},
): Fixture {
  const lines: string[] = [];
  const segments: SegmentDoc[] = [];
  const clock = { t: T0 };
  const now = () => clock.t;
  const deps: ClientDeps = {
    meshName: 'shop',
    service: 'orders',
    policy: new PolicyCache({
      snapshot: { mesh: 'shop', generatedAt: '', items: options.items ?? PAYMENTS },
      snapshotPath: null,
      env: {},
      now,
    }),
    transport: options.transport ?? transportOf(() => ok({})),
    telemetry: new MeshTelemetry(
      (l) => lines.push(...l.split('\n')),
      undefined,
      (d) => segments.push(d),
    ),
    identity: async () => undefined,
    scope: () => options.scope,
    ...options.deps,
  };
  const state: ClientState = clientState({
    ...deps,
    now,
    random: options.random ?? (() => 0),
    sleep: options.sleep ?? (async () => undefined),
  });
  const accessLog = () =>
    lines.filter((l) => l.includes('"mesh-access"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { state, lines, segments, accessLog, clock };
}

/** A call through the stages before the attempts: opened, authorized, connected. */
export async function readyCall(
  state: ClientState,
  target = 'payments',
  payload: unknown = { amount: 1 },
  options: CallOptions = {},
): Promise<ReadyCall> {
  return connect(await authorize(startCall(state, target, payload, options)));
}

/** The plan the retry stage would hand attempt `number` now. */
export function planOf(call: ReadyCall, number = 1): AttemptPlan {
  const now = call.client.now();
  const timeout = attemptTimeout({
    now,
    perTryTimeoutMs: call.traffic.perTryTimeoutMs,
    overallDeadline: call.overallDeadline,
    propagatedDeadline: call.scope?.deadline,
  });
  return { number, now, timeout };
}
