/**
 * The pre-traffic hook's verdict (functions/control/deploy-check.ts): the ping's checks, the wrapper's
 * refusals read as the check they stand for, the declared request, and the hook's environment.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CheckResponse,
  parseDeployChecks,
  runDeployCheck,
  targetMismatch,
} from '../../functions/control/deploy-check';
import { checkKey } from '../../functions/control/deploy-hook';
import { PING_KEY, readPing } from '../../shared/deploy-check';

const spec = { functionName: 'shop-payments', version: '7' };
const pingAnswer = (checks: { name: string; ok: boolean; detail: string }[]) => ({
  result: { [PING_KEY]: { v: 1, service: 'payments', version: '7', ok: checks.every((c) => c.ok), checks } },
});

describe('deploy check verdict', () => {
  test('a ping whose checks all pass passes, naming them; the handler never ran', async () => {
    const sent: unknown[] = [];
    const v = await runDeployCheck('payments', spec, async (_s, payload) => {
      sent.push(payload);
      return pingAnswer([
        { name: 'identity', ok: true, detail: 'ok' },
        { name: 'policy', ok: true, detail: 'ok' },
        { name: 'call ledger', ok: true, detail: 'ok' },
      ]);
    });
    assert.deepEqual(v, {
      ok: true,
      message: 'mesh deploy check of payments v7 passed: identity, policy, call ledger',
    });
    assert.equal(sent.length, 1);
    assert.deepEqual(readPing(sent[0]), { v: 1, targets: true });
  });

  test('the first failed check is named', async () => {
    const v = await runDeployCheck('payments', spec, async () =>
      pingAnswer([
        { name: 'identity', ok: true, detail: 'ok' },
        { name: 'call ledger', ok: false, detail: 'MeshDeniedError: mesh: ledger refused the call: denied' },
      ]),
    );
    assert.deepEqual(v, {
      ok: false,
      message:
        'mesh deploy check of payments v7 failed: call ledger: MeshDeniedError: mesh: ledger refused the call: denied',
    });
  });

  test("the new version's refusals read as the identity or policy check", async () => {
    const refusing = (errorType: string) => async (): Promise<CheckResponse> => ({
      functionError: { errorType, errorMessage: 'mesh: payments refused the call' },
    });
    assert.match(
      (await runDeployCheck('payments', spec, refusing('MeshUnauthenticatedError'))).message,
      /failed: identity: payments v7 refused mesh-deploy-check's ping \(MeshUnauthenticatedError\)$/,
    );
    assert.match(
      (await runDeployCheck('payments', spec, refusing('MeshDeniedError'))).message,
      /failed: policy: payments v7 refused mesh-deploy-check's ping \(MeshDeniedError\)$/,
    );
    assert.match(
      (await runDeployCheck('payments', spec, refusing('Runtime.ImportModuleError'))).message,
      /failed: ping: Runtime.ImportModuleError: mesh: payments refused the call$/,
    );
  });

  test('an answer that is no ping, and an Invoke that fails, fail with what happened', async () => {
    assert.match(
      (await runDeployCheck('payments', spec, async () => ({ result: { charged: 1 } }))).message,
      /failed: ping: payments v7 answered, but not as a mesh ping/,
    );
    assert.match(
      (
        await runDeployCheck('payments', spec, async () => {
          throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
        })
      ).message,
      /failed: invoke: AccessDeniedException: User is not authorized$/,
    );
  });

  test('a declared request runs after the ping; its function error fails the check', async () => {
    const request = { amountCents: 1 };
    const ok = pingAnswer([{ name: 'identity', ok: true, detail: 'ok' }]);
    const passed = await runDeployCheck('payments', { ...spec, request }, async (_s, p) =>
      p === request ? { result: { charged: 1 } } : ok,
    );
    assert.deepEqual(passed, { ok: true, message: 'mesh deploy check of payments v7 passed: identity, request' });
    const failed = await runDeployCheck('payments', { ...spec, request }, async (_s, p) =>
      p === request ? { functionError: { errorType: 'Error', errorMessage: 'card declined' } } : ok,
    );
    assert.deepEqual(failed, {
      ok: false,
      message: 'mesh deploy check of payments v7 failed: request: Error: card declined',
    });
    const crashed = await runDeployCheck('payments', { ...spec, request }, async (_s, p) => {
      if (p === request) throw new Error('socket hang up');
      return ok;
    });
    assert.match(crashed.message, /failed: request: Error: socket hang up/);
  });

  test('the hook environment: each gated service with a published version; anything else is refused', () => {
    const checks = parseDeployChecks(
      JSON.stringify({
        payments: { functionName: 'shop-payments', version: '3', request: { a: 1 } },
        ledger: { functionName: 'shop-ledger', version: '1' },
      }),
    );
    assert.deepEqual(checks.get('payments'), { functionName: 'shop-payments', version: '3', request: { a: 1 } });
    assert.deepEqual(checks.get('ledger'), { functionName: 'shop-ledger', version: '1' });
    assert.throws(() => parseDeployChecks(undefined), /MESH_DEPLOY_CHECKS is not JSON/);
    assert.throws(() => parseDeployChecks('[]'), /must be an object/);
    assert.throws(
      () => parseDeployChecks('{"p":{"functionName":"f","version":"$LATEST"}}'),
      /MESH_DEPLOY_CHECKS.p must be/,
    );
  });

  test('the deployment must shift this function to this version: by name or ARN, else both are named', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:shop-payments';
    assert.equal(
      targetMismatch('d-1', 'payments', spec, { functionName: 'shop-payments', targetVersion: '7' }),
      undefined,
    );
    assert.equal(targetMismatch('d-1', 'payments', spec, { functionName: arn, targetVersion: '7' }), undefined);
    const other = 'the check of payments is of shop-payments v7, the version this deploy published';
    for (const [target, shifts] of [
      [{ functionName: 'shop-payments', targetVersion: '6' }, 'shifts shop-payments to version 6'],
      [{ functionName: 'shop-orders', targetVersion: '7' }, 'shifts shop-orders to version 7'],
      [{}, 'shifts (no function) to version (none)'],
      [undefined, 'shifts no target'],
    ] as const) {
      const m = targetMismatch('d-1', 'payments', spec, target);
      assert.ok(m?.includes(`deployment d-1 ${shifts}, but ${other}`), m);
    }
  });
});

describe("the check's idempotency keys", () => {
  test('the same request of the same hook execution has the same key; another request or execution, another', () => {
    const ping = Buffer.from(JSON.stringify({ [PING_KEY]: { v: 1, targets: true } }));
    const request = Buffer.from('{"order":"synthetic-1"}');
    const key = checkKey('exec-1', request);
    assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(checkKey('exec-1', Buffer.from('{"order":"synthetic-1"}')), key);
    assert.notEqual(checkKey('exec-1', ping), key);
    assert.notEqual(checkKey('exec-2', request), key);
  });
});
