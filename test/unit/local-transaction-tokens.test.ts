/**
 * TransactWriteItems' ClientRequestToken, decided on a simulated clock: a token holds for 10 minutes
 * after its transaction completed ("TransactWriteItems", Amazon DynamoDB API Reference), only a
 * transaction that succeeded is remembered, and the store keeps at most its cap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoReply } from '../../local/endpoint/dynamo-extensions';
import { TOKEN_WINDOW_MS, type TokenDecision, TransactionTokens } from '../../local/endpoint/transaction-tokens';

const OK: DynamoReply = { status: 200, body: {} };
const request = (token: string, id = 'a') => ({
  ClientRequestToken: token,
  TransactItems: [{ Put: { TableName: 't', Item: { id: { S: id } } } }],
});
const runs = (d: TokenDecision): d is Extract<TokenDecision, { run: true }> => 'run' in d;
/** The answer given without running: a replay's reply, or a refusal's. */
const answer = (d: TokenDecision) => ('answer' in d ? d.answer : undefined);
const code = (d: TokenDecision) => String(answer(d)?.body.__type ?? '').split('#')[1];

describe('TransactionTokens', () => {
  it('replays a token for 10 minutes after its transaction completed, then runs it as new', () => {
    let now = 1_000;
    const tokens = new TransactionTokens(() => now);
    const first = tokens.decide(request('t1'));
    assert.ok(runs(first));
    now += 50; // the transaction took this long
    first.remember(OK);
    now += TOKEN_WINDOW_MS - 1;
    assert.deepEqual(answer(tokens.decide(request('t1'))), OK, 'the same request is answered as the first');
    assert.equal(code(tokens.decide(request('t1', 'b'))), 'IdempotentParameterMismatchException');
    now += 1;
    assert.ok(runs(tokens.decide(request('t1', 'b'))), 'past the window the token is new');
    assert.equal(tokens.size, 0);
  });

  it('forgets a transaction that failed, so its retry under the same token runs', () => {
    const tokens = new TransactionTokens(() => 0);
    const first = tokens.decide(request('t2'));
    assert.ok(runs(first));
    first.remember({ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException' } });
    assert.ok(runs(tokens.decide(request('t2'))));
  });

  it('keeps at most its cap, forgetting the oldest first', () => {
    const tokens = new TransactionTokens(() => 0, 2);
    for (const t of ['x', 'y', 'z']) {
      const d = tokens.decide(request(t));
      assert.ok(runs(d));
      d.remember(OK);
    }
    assert.equal(tokens.size, 2);
    assert.ok(runs(tokens.decide(request('x'))), 'the oldest was forgotten');
    assert.deepEqual(answer(tokens.decide(request('z'))), OK);
  });

  it('runs a transaction without a token every time', () => {
    const tokens = new TransactionTokens(() => 0);
    const { ClientRequestToken: _t, ...untokened } = request('t3');
    const d = tokens.decide(untokened);
    assert.ok(runs(d));
    d.remember(OK);
    assert.ok(runs(tokens.decide(untokened)));
    assert.equal(tokens.size, 0);
  });
});
