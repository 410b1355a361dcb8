/**
 * Names as injection: a name one layer accepts and another reads as something else. The constructs
 * take a service or channel name; the policy table, the runtime and the metrics give a few names a
 * meaning of their own (`external`, `unknown`) and keep services and channels in one key space.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MeshErrorCode, MeshValidationError } from '../../infra/mesh-validation-error';
import { EXTERNAL, UNKNOWN_SOURCE } from '../../shared/names';
import { meshStack } from '../infra/infra-fixture';

const refused = (code: MeshErrorCode, message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof MeshValidationError, String(err));
  assert.equal(err.code, code);
  assert.match(err.message, message);
  return true;
};

describe('attack: a service or channel named to be read as another', () => {
  it(`a service named "${EXTERNAL}" is refused: its edges would be allow#${EXTERNAL}, which admits every caller outside the mesh`, () => {
    const { fn, mesh } = meshStack();
    const payments = fn('Payments', 'payments');
    assert.throws(
      () => fn('Ext', EXTERNAL).allowCallsTo(payments),
      refused(
        MeshErrorCode.RESERVED_SERVICE_NAME,
        /service "external" is reserved: .*every caller outside the mesh.*pick another/,
      ),
    );
    assert.deepEqual(
      mesh.policyItems().filter((i) => i.pk === 'payments' && i.sk === `allow#${EXTERNAL}`),
      [],
      'payments admits no caller outside the mesh',
    );
  });

  it(`a service named "${UNKNOWN_SOURCE}" is refused: the metrics record unverified callers under that name`, () => {
    const { fn } = meshStack();
    assert.throws(
      () => fn('Unknown', UNKNOWN_SOURCE),
      refused(MeshErrorCode.RESERVED_SERVICE_NAME, /service "unknown" is reserved: .*unverified/),
    );
  });

  it("a service named after a channel declared before it is refused: the channel's allow items would admit its senders as callers", () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    orders.allowSendTo(new sqs.Queue(stack, 'Queue'), { channel: 'ledger' });
    assert.throws(
      () => fn('Ledger', 'ledger'),
      refused(MeshErrorCode.DUPLICATE_SERVICE, /service "ledger" is already the name of a channel of Test\/Orders/),
    );
  });

  it('a service named after a channel only consumed so far is refused too', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    const audit = fn('Audit', 'audit');
    const queue = new sqs.Queue(stack, 'Queue');
    audit.receiveFrom(queue, { from: [orders], channel: 'ledger' });
    assert.throws(() => fn('Ledger', 'ledger'), refused(MeshErrorCode.DUPLICATE_SERVICE, /channel/));
  });

  it('the other order, a channel named after a service declared before it, stays refused', () => {
    const { stack, fn } = meshStack();
    const orders = fn('Orders', 'orders');
    fn('Ledger', 'ledger');
    assert.throws(
      () => orders.allowSendTo(new sqs.Queue(stack, 'Queue'), { channel: 'ledger' }),
      refused(MeshErrorCode.INVALID_CHANNEL, /channel "ledger" has the name of service/),
    );
  });
});
