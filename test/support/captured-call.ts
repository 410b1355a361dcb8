/**
 * Two runtimes of one mesh (orders may call payments), as a replay attack needs them: the caller's
 * Invokes are kept, as someone who captured them would keep them, and each runtime's access log is read
 * back as the outcome (or refusal reason) of each call. Real identities from test/support/identity-fixture.ts.
 */
import { MeshRuntime } from '../../functions/mesh/mesh-runtime';
import type { InvokeRequest, InvokeTransport } from '../../functions/mesh/transport/invoke-transport';
import type { identityOf } from './identity-fixture';

const ITEMS = [
  { pk: 'payments', sk: 'service', functionName: 'shop-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

/** Keeps what a caller sent. */
export class Capture implements InvokeTransport {
  readonly sent: InvokeRequest[] = [];
  async invoke(req: InvokeRequest) {
    this.sent.push(req);
    return { statusCode: 200, payload: Buffer.from('"charged"') };
  }
}

/** A runtime of `service` in mesh `shop`, its calls kept by `transport`, its log lines in `lines`. */
export function capturingRuntime(
  service: string,
  identity: Awaited<ReturnType<typeof identityOf>>,
  transport = new Capture(),
) {
  const lines: string[] = [];
  const rt = new MeshRuntime({
    env: {},
    config: { meshName: 'shop', service, functionVersion: '1' },
    policy: { snapshot: { mesh: 'shop', generatedAt: '', items: ITEMS }, snapshotPath: null },
    transport,
    sink: (l) => lines.push(...l.split('\n')),
    identity: async () => identity,
    sleep: async () => undefined,
  });
  return { rt, lines, transport };
}

/** Each access-log line's refusal reason, or its outcome. */
export const accessReasons = (lines: string[]) =>
  lines
    .filter((l) => l.startsWith('{"type":"mesh-access"'))
    .map((l) => JSON.parse(l) as { outcome: string; reason?: string })
    .map((r) => r.reason ?? r.outcome);
