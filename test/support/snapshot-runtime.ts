/**
 * A MeshRuntime for runtime tests: its policy is a snapshot of the given items and no table (so it
 * never ages), identity off, no sleeping between retries, telemetry lines collected in `lines`.
 */
import { MeshRuntime, type MeshRuntimeOptions } from '../../functions/mesh/mesh-runtime';
import type { InvokeTransport } from '../../functions/mesh/transport/lambda-invoke';

/** payments, which orders may call with one attempt per call: the edge the endpoint tests call over. */
export const ORDERS_TO_PAYMENTS: readonly Record<string, unknown>[] = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders', retries: { maxAttempts: 1 } },
];

export interface SnapshotRuntimeOptions extends Omit<MeshRuntimeOptions, 'policy' | 'transport' | 'config'> {
  readonly service: string;
  readonly items: readonly unknown[];
  readonly transport: InvokeTransport;
  /** Receives every telemetry line (EMF and access log). */
  readonly lines?: string[];
  readonly meshName?: string;
}

export function snapshotRuntime(o: SnapshotRuntimeOptions): MeshRuntime {
  const { service, items, lines, meshName = 'shop', ...rest } = o;
  return new MeshRuntime({
    env: {},
    config: { meshName, service, functionVersion: '1' },
    policy: { snapshot: { mesh: meshName, generatedAt: new Date(0).toISOString(), items }, snapshotPath: null },
    sink: (l) => lines?.push(...l.split('\n')),
    identity: async () => undefined,
    sleep: async () => undefined,
    ...rest,
  });
}
