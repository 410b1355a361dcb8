/**
 * The `npm start` demo's parts on the example app: the denied edge is a policy denial by frontend's
 * own mesh (frontend's `pay-direct` action), counted as denied and shown by the live view; the view
 * shows the configured canary split next to the served one.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { liveRows, renderLiveView } from '../../local/live-view';
import { demoPlan } from '../../local/start-command';
import type { EdgeStats } from '../../shared/telemetry/golden-metrics';
import { clientConfig, exampleAssemblies, startTestMesh, type TestMesh } from '../support/example-assembly';

describe('live view rendering', () => {
  it('puts an all-denied edge in its own section and shows the live alias split', () => {
    const rows = {
      from: 'emf' as const,
      edges: [
        {
          source: 'orders',
          destination: 'payments',
          version: '2',
          rps: 1,
          successRate: 0.8,
          p50: 40,
          p99: 60,
          requests: 10,
          denied: 0,
        },
        {
          source: 'frontend',
          destination: 'payments',
          version: 'live',
          rps: 1,
          successRate: 0,
          p50: 0.1,
          p99: 0.2,
          requests: 4,
          denied: 4,
        },
      ],
      splits: [
        {
          service: 'payments',
          shares: [
            { version: '1', share: 0.9 },
            { version: '2', share: 0.1 },
          ],
        },
      ],
    };
    const text = renderLiveView(rows, ['H'], ['F'], [{ service: 'payments', stable: '1', weights: { '2': 0.1 } }]);
    assert.match(text, /orders -> payments\s+2\s+1\.0\s+80\.0%\s+40\s+60\s+10\s+0/);
    assert.doesNotMatch(text, /frontend -> payments\s+live/);
    assert.match(text, /DENIED by policy: frontend -> payments {2}\(4 refused in the window\)/);
    assert.match(text, /canary payments: live v1 90% \/ v2 10% {3}served v1 90\.0% {2}v2 10\.0%/);
  });
});

describe('demo denied edge on the example app', { skip: exampleAssemblies() === undefined && 'no example app' }, () => {
  let m: TestMesh;
  let lambda: LambdaClient;

  before(async () => {
    const { release1, release2 } = exampleAssemblies()!;
    m = await startTestMesh([release1, release2]);
    lambda = new LambdaClient(clientConfig(m.url));
  });

  after(async () => {
    lambda?.destroy();
    await m?.stop();
  });

  it("frontend's own mesh refuses frontend -> payments; denied_total counts it; the view shows it", async () => {
    // Prepare: the demo plan's denied entry, as the generator sends it.
    const denied = demoPlan(
      new Map([
        ['frontend', 'shop-frontend'],
        ['payments', 'shop-payments'],
      ]),
    ).find((r) => /denies/.test(r.label))!;
    assert.match(denied.functionName, /^shop-frontend:/);
    assert.equal(denied.meshSource, undefined, 'the generator claims no identity');

    // Act
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const r = await lambda.send(
        new InvokeCommand({ FunctionName: denied.functionName, Payload: Buffer.from(JSON.stringify(denied.payload)) }),
      );
      assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
      answers.push(JSON.parse(Buffer.from(r.Payload!).toString()) as { denied: boolean; reason: string });
    }

    // Assess: refused as a policy decision, before any Invoke of payments.
    for (const a of answers) {
      assert.equal(a.denied, true);
      // The answer says "denied" and a request id; why (no frontend -> payments edge) is in frontend's log.
      assert.match(a.reason, /call to payments was refused: denied \(request /);
      assert.doesNotMatch(a.reason, /allowCallsTo|allow#/);
    }
    assert.ok(m.local, 'needs the in-process local mesh');
    let edge: EdgeStats | undefined;
    for (let i = 0; i < 50 && !edge; i++) {
      edge = m.local.store
        .stats({ windowMs: 60_000 })
        .edges.find((e) => e.source === 'frontend' && e.destination === 'payments' && e.denied >= 3);
      if (!edge) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(edge, 'denied_total for frontend -> payments');
    const paymentsCalls = m.local
      .recentInvocations()
      .filter((r) => r.functionName === 'shop-payments' && r.source === 'frontend');
    assert.equal(paymentsCalls.length, 0, 'payments was never invoked by frontend');
    const view = renderLiveView(liveRows(m.local.store.stats({ windowMs: 60_000 }), [], Date.now(), 60_000), []);
    assert.match(view, /DENIED by policy: frontend -> payments/);
  });
});
