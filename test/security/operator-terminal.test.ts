/**
 * The operator's terminal as the target. What `mesh tap`, `mesh trace` and `mesh status` show is
 * written by others: any function prints lines shaped like the mesh's access log, names its X-Ray
 * segments and sets their annotations; a policy item's note is text. Terminal control in them (OSC 52
 * writes the clipboard, CSI moves the cursor and clears the screen, CR and newline forge rows, U+202E
 * reverses what follows) must reach the terminal as visible text, and a line of another shape must
 * not end `mesh tap`. Colour stays on, as at a terminal: the CLI's own colour is the only control left.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { painter } from '../../cli/colour';
import { renderReport } from '../../cli/commands/check';
import { renderStatus } from '../../cli/commands/status';
import { renderTapLine } from '../../cli/commands/tap';
import { renderTraceList, renderWaterfall } from '../../cli/commands/trace';
import { type CliContext, processContext } from '../../cli/context';
import { main } from '../../cli/main';
import { summarisePolicy } from '../../cli/policy-summary';
import { FRAME, frameText } from '../../cli/watch';
import { MeshTelemetry } from '../../functions/mesh/telemetry/mesh-telemetry';
import { liveRows, renderLiveView } from '../../local/live-view';
import { AccessLogBuffer } from '../../local/telemetry/access-log-buffer';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { emfLine, newSegmentId, newTraceId } from '../support/observ-fixtures';

const colour = painter({ tty: true, env: {} }, { json: false });

/**
 * Clipboard write, cursor home, clear screen, a forged row, an 8-bit CSI, a right-to-left override, and
 * characters that show as nothing (a zero-width space, a word joiner, a byte order mark).
 */
const HOSTILE =
  'pay\x1b]52;c;cm0gLXJmIH4=\x07\x1b[H\x1b[2Jments\r\nfake-row 100%\u009b2J\u202Eevil or\u200bders\u2060\ufeff';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const OWN_COLOUR = /\x1b\[(?:0|2|31|32|33)m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** What the terminal would act on once the CLI's own colour is set aside. */
function controlsIn(text: string): string[] {
  return [...text.replace(OWN_COLOUR, '').matchAll(CONTROL)].map((m) => m[0]);
}

/** The access-log lines a function's own stdout put in the local mesh's log (`mesh tap`'s source). */
function logged(...lines: string[]) {
  const log = new AccessLogBuffer();
  for (const l of lines) log.record(l);
  return log.after(0, 100).map((x) => x.entry);
}

describe('mesh tap, mesh trace and mesh status under hostile text', () => {
  test('a forged access-log line shows as one line of visible text', () => {
    const forged = JSON.stringify({
      type: 'mesh-access',
      time: Date.now(),
      reporter: 'source',
      source: HOSTILE,
      destination: HOSTILE,
      version: HOSTILE,
      code: 200,
      outcome: 'success',
      durationMs: 3,
      traceId: HOSTILE,
      fallbackFor: HOSTILE,
    });
    const [entry] = logged(forged);
    assert.ok(entry, 'a well-shaped line is kept: tap shows it');
    const line = renderTapLine(entry, colour);
    assert.deepEqual(controlsIn(line), []);
    assert.doesNotMatch(line, /\n/);
    assert.match(line, /pay\\u001b\]52;c;cm0gLXJmIH4=\\u0007\\u001b\[H/, 'the operator sees what was sent');
  });

  test("a callee's error message in the caller's own access-log line shows as visible text", () => {
    const lines: string[] = [];
    new MeshTelemetry((text) => lines.push(...text.split('\n')), undefined).record({
      reporter: 'source',
      source: 'orders',
      destination: 'payments',
      version: '2',
      code: 502,
      outcome: 'function-error',
      durationMs: 12,
      error: `MeshFunctionError: ${HOSTILE}`,
    });
    const [entry] = logged(...lines);
    assert.ok(entry, "the runtime's own line is an access-log entry");
    assert.deepEqual(controlsIn(renderTapLine(entry, colour)), []);
  });

  test('an access-log line of another shape is not an entry, and nothing ends the tap', () => {
    const base = {
      type: 'mesh-access',
      time: Date.now(),
      reporter: 'source',
      source: 'a',
      destination: 'b',
      version: '1',
      code: 200,
      outcome: 'success',
      durationMs: 1,
    };
    const shapes = [
      { ...base, outcome: undefined },
      { ...base, version: 7 },
      { ...base, time: 'soon' },
      { ...base, time: 1e20 },
      { ...base, durationMs: 'slow' },
      { ...base, traceId: { $: 1 } },
      { ...base, reporter: 'someone' },
    ];
    const entries = logged(...shapes.map((s) => JSON.stringify(s)), JSON.stringify(base));
    assert.deepEqual(entries, [base], 'only the line of the runtime shape is kept');
    for (const e of entries) assert.doesNotThrow(() => renderTapLine(e, colour));
  });

  test("a span's name and annotations in the waterfall stay on their line", () => {
    const store = new TelemetryStore();
    const id = newTraceId();
    const root = newSegmentId();
    const t0 = Date.now() / 1000;
    store.recordSegment({ trace_id: id, id: root, name: 'demo-orders', start_time: t0, end_time: t0 + 0.1 });
    store.recordSegment({
      type: 'subsegment',
      trace_id: id,
      parent_id: root,
      id: newSegmentId(),
      name: HOSTILE,
      start_time: t0 + 0.01,
      end_time: t0 + 0.05,
      annotations: { source: 'orders', target: HOSTILE, outcome: HOSTILE },
    });
    const text = renderWaterfall(store.trace(id)!, 20);
    assert.deepEqual(controlsIn(text), []);
    assert.equal(text.split('\n').length, 4, 'title, scale and two spans: no forged row');
  });

  test('a segment whose times no date holds is not kept, and nothing ends mesh trace', () => {
    const store = new TelemetryStore();
    const sent = ['1e20', '1e400', '-1e400'].map((t) => {
      const id = newTraceId();
      const doc = `{"trace_id":"${id}","id":"${newSegmentId()}","name":"x","start_time":${t},"end_time":${t}}`;
      return store.recordSegment(doc);
    });
    const t0 = Date.now() / 1000;
    const ended = `{"trace_id":"${newTraceId()}","id":"${newSegmentId()}","name":"x","start_time":${t0},"end_time":1e400}`;
    sent.push(store.recordSegment(ended));
    assert.deepEqual(sent, [false, false, false, false]);
    const kept = newTraceId();
    assert.ok(
      store.recordSegment({ trace_id: kept, id: newSegmentId(), name: 'x', start_time: t0, in_progress: true }),
    );
    assert.doesNotThrow(() => renderTraceList(store.traces(10), 0, colour));
    assert.deepEqual(
      store.traces(10).map((t) => t.id),
      [kept],
    );
  });

  test("npm start's live view shows the names a function printed in its EMF as text", () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ source: HOSTILE, destination: HOSTILE, version: HOSTILE }));
    store.recordEmf(emfLine({ source: 'orders', destination: HOSTILE, version: '2', reporter: 'destination' }));
    const rows = liveRows(store.stats({ windowMs: 60_000 }), [], Date.now(), 60_000);
    assert.ok(rows.edges.length > 0, 'the lines made edges');
    const text = renderLiveView(
      rows,
      ['header'],
      ['footer'],
      [{ service: HOSTILE, stable: '1', weights: { '2': 0.1 } }],
    );
    assert.deepEqual(controlsIn(text), []);
    assert.doesNotMatch(text, /^fake-row/m);
  });

  test("a policy item's note in mesh status stays in its cell", () => {
    const items = [
      { pk: 'payments', sk: 'allow#orders', source: 'orders', managedBy: 'deploy' },
      { pk: 'payments', sk: 'deny#orders', source: 'orders', managedBy: 'operator', reason: HOSTILE },
      { pk: 'payments', sk: 'allow#frontend', managedBy: HOSTILE },
    ];
    const text = renderStatus(
      { mesh: 'demo', region: 'us-east-1', services: [], policy: summarisePolicy(items), items },
      Date.now(),
      colour,
    );
    assert.deepEqual(controlsIn(text), []);
    assert.doesNotMatch(text, /^fake-row/m, 'the note is one cell: it starts no row');
    assert.match(text, /^orders +payments +\S*DENIED\S* +operator +pay\\u001b\]52/m);
  });

  test('an error quoting a service name another function chose prints as visible text', async () => {
    // A function of the account names itself a service of the mesh: discovery lists it.
    const err: string[] = [];
    const ctx: CliContext = {
      env: {},
      cwd: '/',
      tty: true,
      out: () => undefined,
      err: (t) => err.push(t),
      clients: () => assert.fail('no AWS client: discovery is given'),
      discover: async () => ({
        mesh: { name: 'shop', table: 'shop-policy', services: [{ service: HOSTILE, functionName: 'shop-x' }] },
        clients: {} as never,
      }),
    };
    assert.equal(await main(['policy', 'list', '--service', 'pay'], ctx), 2);
    assert.match(err.join('\n'), /unknown service "pay"/);
    assert.deepEqual(controlsIn(err.join('\n')), []);
  });

  test('every line a command writes leaves as visible text; the CLI keeps its colour and its redraw', () => {
    // Lines a command built from names without showing them as text (the plan of `mesh policy set`
    // names stored items' keys; `mesh shift` names the service discovery found), and a watched frame.
    const out: string[] = [];
    const err: string[] = [];
    const ctx = processContext({ env: {}, tty: true, out: (t) => out.push(t), err: (t) => err.push(t) });
    ctx.out(`delete    ${HOSTILE}/allow#orders\n${colour('red', HOSTILE)}`);
    ctx.err(`mesh shift: ${HOSTILE}: live unchanged`);
    ctx.out(frameText(`${HOSTILE}  ${colour('red', '1 failed')}`, 'tty', new Date(0), 2000), 'frame');
    const [lines, frame] = out;
    for (const text of [lines!, ...err]) assert.deepEqual(controlsIn(text), []);
    assert.match(lines!, OWN_COLOUR, 'the colour stays');
    // The frame's own redraw is all the control it holds.
    const redraw = [FRAME.home, FRAME.clearLineEnd, FRAME.clearBelow];
    assert.ok(frame!.startsWith(FRAME.home) && frame!.endsWith(`${FRAME.clearLineEnd}${FRAME.clearBelow}`));
    assert.deepEqual(controlsIn(redraw.reduce((t, seq) => t.replaceAll(seq, ''), frame!)), []);
    assert.match(frame!, OWN_COLOUR);
  });

  test("mesh check's report names a hostile service and its finding as visible text", () => {
    const text = renderReport({
      mesh: 'shop',
      region: 'us-east-1',
      services: [
        { service: HOSTILE, functionName: 'shop-x', checks: [{ check: 'identity', status: 'fail', detail: HOSTILE }] },
      ],
      passed: 0,
      failed: 1,
      warnings: 0,
    });
    assert.deepEqual(controlsIn(text), []);
    assert.doesNotMatch(text, /^fake-row/m);
  });
});
