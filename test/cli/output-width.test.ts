/**
 * The CLI's output fits the width it is given (a terminal's, or COLUMNS), as `mesh stat`'s tables do
 * (stat-width.test.ts): at 80 columns `mesh status`'s caller notes and effective settings, `policy
 * list`'s details, `trace`'s list and waterfall, `tap`'s lines, `check`'s findings and `rollout`'s
 * progress ran past the edge. Nothing is dropped: a long cell breaks under its column, prose between
 * words; a command to paste stays on one line. Without a width every line is as before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { renderReport } from '../../cli/commands/check';
import { renderTapLine } from '../../cli/commands/tap';
import { renderTraceList, renderWaterfall } from '../../cli/commands/trace';
import { formatTable, wrapWords } from '../../cli/table-format';
import type { AccessEntry } from '../../shared/telemetry/access-log';
import { summarize, type Trace, type TraceSpan } from '../../shared/telemetry/trace-assembler';
import { type CliMeshFixture, startCliMesh } from '../support/cli-mesh-fixture';
import { meshArgs, run } from '../support/mesh-cli';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));
const words = (text: string) => text.split(/\s+/).filter(Boolean);

describe('formatTable and wrapWords with a width', () => {
  const rows = [
    ['payments', 'allow#orders', 'deploy', 'timeout 5000ms, per-try 2000ms, attempts 3, idempotent, breaker'],
    ['orders', 'service', 'deploy', 'function shop-orders, alias live'],
  ];
  it('breaks the last column under itself, keeping every word', () => {
    const text = formatTable(['SERVICE', 'ITEM', 'BY', 'DETAIL'], rows, { width: 60 });
    assert.ok(widest(text) <= 60, `\n${text}`);
    assert.deepEqual(words(text), words(formatTable(['SERVICE', 'ITEM', 'BY', 'DETAIL'], rows)));
    const start = text.split('\n')[0]!.indexOf('DETAIL');
    for (const line of text.split('\n').filter((l) => l.startsWith(' '))) assert.equal(line.search(/\S/), start);
  });
  it('puts the column under its row when the others leave it no room', () => {
    const text = formatTable(['SERVICE', 'ITEM', 'BY', 'DETAIL'], rows, { width: 36 });
    assert.ok(widest(text) <= 36, `\n${text}`);
    assert.match(text, /^payments {2}allow#orders {2}deploy\n {2}timeout 5000ms,/m);
  });
  it('stacks a table whose other columns are wider than the width: each row a block, each value named', () => {
    const text = formatTable(['SERVICE', 'ITEM', 'BY', 'DETAIL'], rows, { width: 28 });
    assert.ok(widest(text) <= 28, `\n${text}`);
    assert.match(text, /^payments\n {2}ITEM {4}allow#orders\n {2}BY {6}deploy\n {2}DETAIL {2}timeout 5000ms,/);
    assert.match(text, /\n {10}\S/, 'a value breaks under itself');
    assert.deepEqual(
      words(text).sort(),
      [...words(rows.flat().join(' ')), 'ITEM', 'BY', 'DETAIL', 'ITEM', 'BY', 'DETAIL'].sort(),
    );
  });
  it('stacks rather than break a column too narrow for its longest word, or one that holds no prose', () => {
    const edges = [['mesh-deploy-check -> payments@2', '12', '100%']];
    assert.match(
      formatTable(['EDGE', 'REQ', 'SUCCESS'], edges, { width: 24, wrap: 0 }),
      /^mesh-deploy-check -> payments@2\n {2}REQ/,
    );
    const services = [['payments', 'shop-payments', '90% v1 / 10% v2', 'v2']];
    assert.match(
      formatTable(['SERVICE', 'FUNCTION', 'LIVE', 'CANARY'], services, { width: 40 }),
      /^payments\n {2}FUNCTION/,
    );
  });
  it('wrapWords keeps a command in backticks whole, on a line of its own where it must', () => {
    const text = wrapWords(
      'to delete it, run: `mesh policy delete payments allow#orders --force` (nothing was deleted)',
      40,
      '  ',
    );
    assert.deepEqual(text.split('\n'), [
      'to delete it, run:',
      '  `mesh policy delete payments allow#orders --force`',
      '  (nothing was deleted)',
    ]);
  });
  it('leaves a table that fits, and one without a width, as it is', () => {
    assert.equal(formatTable(['A', 'B'], rows, { width: 200 }), formatTable(['A', 'B'], rows));
  });
  it('wrapWords keeps a line of aligned fields and indents what it breaks off', () => {
    const line = '  step 1/3   25% v2  requests   12  wait (fewer than 20 requests; one more interval)';
    const text = wrapWords(line, 60, '  ');
    assert.ok(widest(text) <= 60, text);
    assert.ok(text.startsWith('  step 1/3   25% v2  requests   12'), text);
    assert.match(text.split('\n')[1]!, /^ {4}\S/);
  });
});

describe('the commands at 80 columns', () => {
  const span = (name: string, depth: number, start: number, end: number, annotations = {}): TraceSpan => ({
    id: name,
    parentId: undefined,
    name,
    kind: 'segment',
    origin: undefined,
    namespace: undefined,
    start,
    end,
    durationMs: end - start,
    inProgress: false,
    error: false,
    fault: false,
    throttle: false,
    httpStatus: undefined,
    annotations,
    depth,
    children: [],
  });
  const call = { source: 'orders', target: 'payments', version: '1', attempt: 1, outcome: 'success' };
  const root = { ...span('shop-frontend', 0, 0, 80, { version: '1' }) };
  root.children.push(span('payments', 1, 10, 40, call), span('notifications', 1, 40, 70, call));
  const trace: Trace = {
    id: '1-6b11ab51-e97324d6ddbe4c6076f9720d',
    start: 0,
    end: 80,
    durationMs: 80,
    roots: [root],
    spanCount: 3,
    services: ['shop-frontend', 'shop-orders', 'shop-inventory', 'shop-payments', 'shop-notifications'],
    error: false,
    fault: false,
    complete: true,
  };

  it('trace: the waterfall and the list fit, with every annotation and hop', () => {
    const waterfall = renderWaterfall(trace, 50, 80);
    assert.ok(widest(waterfall) <= 80, `\n${waterfall}`);
    assert.match(
      waterfall.replaceAll('\n', ' '),
      /source=orders +target=payments version=1 attempt=1 +outcome=success/,
    );
    assert.equal(renderWaterfall(trace, 50, 200).split('\n').length, renderWaterfall(trace).split('\n').length + 3);
    const list = renderTraceList([{ ...summarize(trace), root: 'shop-frontend' }], 0, undefined, 80);
    assert.ok(widest(list) <= 80, `\n${list}`);
    assert.match(list.replaceAll(/\s+/g, ' '), /shop-payments -> shop-notifications/);
  });

  it('tap: a line fits, what follows the duration under the edge', () => {
    const e: AccessEntry = {
      type: 'mesh-access',
      time: 0,
      reporter: 'source',
      source: 'orders',
      destination: 'notifications',
      version: '1',
      code: 200,
      outcome: 'success',
      durationMs: 13,
      traceId: '1-6581c2b4-3f0e8d1b2c4a5e6f7a8b9c0d',
    } as AccessEntry;
    const line = renderTapLine(e, undefined, 80);
    assert.ok(widest(line) <= 80, `\n${line}`);
    assert.match(line, /\n {14}trace=1-6581c2b4-3f0e8d1b2c4a5e6f7a8b9c0d$/);
    assert.doesNotMatch(renderTapLine(e), /\n/);
  });

  it('tap: an edge wider than its column gets a line of its own, whole, and the columns after it stay aligned', () => {
    const e = {
      type: 'mesh-access',
      time: 0,
      reporter: 'source',
      source: 'mesh-deploy-check',
      destination: 'notifications',
      version: '3',
      code: 200,
      outcome: 'success',
      durationMs: 4,
    } as AccessEntry;
    const short = renderTapLine({ ...e, source: 'orders' }, undefined, 80);
    const long = renderTapLine(e, undefined, 80);
    assert.ok(widest(long) <= 80, `\n${long}`);
    const [first, second] = long.split('\n');
    assert.equal(first, '00:00:00.000  mesh-deploy-check -> notifications');
    // The version, code and duration sit where a short edge's do.
    assert.equal(second!.indexOf('v3'), short.indexOf('v3'));
    assert.equal(second!.length, short.length);
    // Too narrow even for that line: it breaks after the arrow.
    assert.deepEqual(renderTapLine(e, undefined, 40).split('\n').slice(0, 2), [
      '00:00:00.000  mesh-deploy-check ->',
      '              notifications',
    ]);
    assert.equal(renderTapLine(e).split('\n').length, 1);
  });

  it('tap: a refusal shows why the callee refused it, which its caller was not told', () => {
    const e = {
      type: 'mesh-access',
      time: 0,
      reporter: 'source',
      source: 'frontend',
      destination: 'payments',
      version: 'live',
      code: 403,
      outcome: 'denied',
      durationMs: 0.2,
      error:
        'MeshDeniedError: mesh: the call to payments was refused: denied (request r1); the reason is in the mesh access log',
      reason:
        'no-edge: frontend may not call payments: declare the edge (frontend.allowCallsTo(payments)) or add payments/allow#frontend',
    } as AccessEntry;
    assert.match(renderTapLine(e), / reason="no-edge: frontend may not call payments: declare the edge .*"$/);
    assert.ok(widest(renderTapLine(e, undefined, 80)) <= 80);
  });

  it('check: findings break under their text, a run: line stays whole', () => {
    const run = 'mesh policy allow orders payments --mesh shop --region eu-west-1 --endpoint-url http://127.0.0.1:4566';
    const text = renderReport(
      {
        mesh: 'shop',
        region: 'eu-west-1',
        services: [
          {
            service: 'payments',
            functionName: 'shop-payments',
            checks: [
              {
                check: 'edges granted in IAM are allowed by the table',
                status: 'fail',
                detail:
                  'IAM lets orders invoke payments, but the table denies it (no payments/allow#orders (deny by default)): every call is refused',
                fix: 'allow the edge in the table (or remove the grant from the role and redeploy)',
                commands: [run],
              },
            ],
          },
        ],
        passed: 0,
        failed: 1,
        warnings: 0,
      },
      80,
    );
    assert.ok(
      text.split('\n').every((l) => l.length <= 80 || l === `    run: ${run}`),
      `\n${text}`,
    );
    assert.ok(text.includes(`    run: ${run}\n`), text);
    assert.match(text, /\n {4}IAM lets .*\n {6}\S/);
  });
});

describe('COLUMNS sets the width of a command whose output is no terminal', () => {
  let fx: CliMeshFixture;
  before(async () => {
    fx = await startCliMesh(
      [
        { mesh: 'demo', service: 'orders', versions: ['1'], live: { version: '1' } },
        { mesh: 'demo', service: 'payments', versions: ['1'], live: { version: '1' } },
      ],
      {
        items: [
          { pk: 'orders', sk: 'allow#mesh-deploy-check', source: 'mesh-deploy-check', managedBy: 'deploy' },
          {
            pk: 'payments',
            sk: 'allow#orders',
            source: 'orders',
            managedBy: 'deploy',
            timeoutMs: 5000,
            perTryTimeoutMs: 2000,
            idempotent: true,
            retries: { maxAttempts: 3, retryOn: ['throttled', 'service-error', 'timeout', 'function-error'] },
          },
        ],
      },
    );
  });
  after(async () => {
    await fx?.stop();
  });
  // The runner's own terminal plays no part: the child's stdout is a pipe, and its environment is the fixture's.
  const mesh = async (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, await meshArgs(args), { ...fx.env, ...extra });

  for (const args of [['status'], ['policy', 'list']]) {
    it(`mesh ${args.join(' ')}: every line fits COLUMNS=80, and every word is still there`, async () => {
      const whole = await mesh(args);
      const fitted = await mesh(args, { COLUMNS: '80' });
      assert.equal(fitted.code, 0, fitted.stderr);
      assert.ok(widest(whole.stdout) > 80, `the case needs a line over 80:\n${whole.stdout}`);
      assert.ok(widest(fitted.stdout) <= 80, `\n${fitted.stdout}`);
      // The same words (a value broken under its column comes before the next column's words).
      const spaced = (t: string) => words(t.replaceAll('","', '", "')).sort();
      assert.deepEqual(words(fitted.stdout).sort(), spaced(whole.stdout));
    });
  }
  it('a COLUMNS that is no whole number is ignored', async () => {
    const r = await mesh(['policy', 'list'], { COLUMNS: 'eighty' });
    assert.equal(r.stdout, (await mesh(['policy', 'list'])).stdout);
  });
});
