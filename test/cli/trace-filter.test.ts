/**
 * Narrowing `mesh trace` down against X-Ray: the filter expression sent with GetTraceSummaries (there is
 * no X-Ray stand-in here, so it is checked as the pure function that builds it), the marks read back
 * from X-Ray's summaries, and the flags' errors (exit 2, naming the value and the fix).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processContext } from '../../cli/context';
import { main } from '../../cli/main';
import { xrayFilterExpression } from '../../cli/telemetry/xray-filter';
import { xrayMarks } from '../../cli/telemetry/xray-traces';

async function runMain(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const env = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
  const code = await main(argv, processContext({ env, out: () => undefined, err: (t) => (err += t) }));
  return { code, err };
}

describe('mesh trace against X-Ray: the filter expression', () => {
  it('asks for traces through a service as X-Ray names it or as the mesh annotates its calls', () => {
    assert.equal(
      xrayFilterExpression({ service: 'payments' }),
      '(service("payments") OR annotation.source = "payments" OR annotation.target = "payments")',
    );
  });

  it('asks for failures of the entry and of any service downstream, retried or handled ones too', () => {
    assert.equal(
      xrayFilterExpression({ failed: true }),
      '(fault OR error OR throttle OR service() { fault OR error OR throttle })',
    );
    assert.equal(
      xrayFilterExpression({ service: 'payments', failed: true, sinceMs: 60_000 }),
      '(service("payments") OR annotation.source = "payments" OR annotation.target = "payments") AND (fault OR error OR throttle OR service() { fault OR error OR throttle })',
    );
  });

  it('sends none without a filter (the time is the request StartTime), and never a name that would break out of quotes', () => {
    assert.equal(xrayFilterExpression({ sinceMs: 60_000 }), undefined);
    assert.throws(() => xrayFilterExpression({ service: 'x") OR ok OR ("' }), /not a service name/);
  });
});

describe("mesh trace against X-Ray: X-Ray's summary marks", () => {
  const annotated = (outcomes: string[], attempts: number[]) => ({
    outcome: outcomes.map((o) => ({ AnnotationValue: { StringValue: o } })),
    attempt: attempts.map((n) => ({ AnnotationValue: { NumberValue: n } })),
  });

  it("keeps HasFault and HasError as X-Ray gives them (the entry's answer) and reads a retry from the annotations", () => {
    const retried = xrayMarks({
      Id: '1-6581c2b4-3f0e8d1b2c4a5e6f7a8b9c0d',
      HasFault: false,
      HasError: false,
      HasThrottle: false,
      FaultRootCauses: [{ Services: [{ Name: 'shop-payments' }] }],
      Annotations: annotated(['function-error', 'success'], [1, 2]),
    });
    assert.deepEqual(retried, {
      fault: false,
      error: false,
      throttle: false,
      outcome: 'retried',
      rootCauses: ['shop-payments'],
    });
    assert.equal(xrayMarks({ HasFault: true, Annotations: annotated(['function-error'], [1]) }).outcome, 'fault');
    assert.equal(xrayMarks({ Annotations: annotated(['denied'], [1]) }).outcome, 'refused');
    assert.equal(xrayMarks({ Annotations: annotated(['timeout'], [1]) }).outcome, 'handled');
    assert.equal(xrayMarks({ IsPartial: true }).outcome, 'partial');
    assert.equal(xrayMarks({}).outcome, 'ok');
  });
});

describe('mesh trace: --service, --failed and --since', () => {
  it('exits 2 naming a bad value and the fix, before reading anything', async () => {
    const badService = await runMain(['trace', '--service', 'pay"ments']);
    assert.equal(badService.code, 2);
    assert.match(
      badService.err,
      /--service must be a mesh service or function name .*got "pay\\"ments"; `mesh status` lists/,
    );
    const badSince = await runMain(['trace', '--failed', '--since', 'yesterday']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.err, /--since must be a duration up to 6h like 30s, 5m or 500ms, got "yesterday"/);
    const badFailed = await runMain(['trace', '--failed=yes']);
    assert.equal(badFailed.code, 2, badFailed.err);
  });
});
