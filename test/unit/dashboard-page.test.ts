/**
 * The local dashboard page renders what the stats route serves: its script runs here against a small
 * stand-in of the DOM and of fetch (no browser), fed one snapshot, and the header and edge table are
 * read back.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { emfLine } from '../support/observ-fixtures';

interface Element {
  textContent: string;
  className: string;
  innerHTML: string;
  value: string;
  hidden: boolean;
  tBodies: { innerHTML: string }[];
  addEventListener(): void;
  setAttribute(): void;
  getAttribute(): null;
  querySelectorAll(): [];
  parentNode: { clientWidth: number };
  style: Record<string, string>;
}

/** Runs the page's script with `stats` as the answer of its stats route; resolves the elements by id. */
async function renderPage(stats: unknown): Promise<(id: string) => Element> {
  const html = readFileSync(join(__dirname, '../../local/dashboard/dashboard.html'), 'utf8');
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const elements = new Map<string, Element>();
  const byId = (id: string) => {
    let e = elements.get(id);
    if (!e) {
      e = {
        textContent: '',
        className: '',
        innerHTML: '',
        value: '60s',
        hidden: false,
        tBodies: [{ innerHTML: '' }],
        addEventListener() {},
        setAttribute() {},
        getAttribute: () => null,
        querySelectorAll: () => [],
        parentNode: { clientWidth: 1200 },
        style: {},
      };
      elements.set(id, e);
    }
    return e;
  };
  const answer = (path: string) =>
    path.startsWith('stats') ? stats : path.startsWith('traces') ? { traces: [] } : null;
  runInNewContext(script, {
    document: {
      getElementById: byId,
      body: { classList: { add() {}, remove() {} } },
      activeElement: null,
      // Names are measured at 7 px a character: the page's graph layout needs a width, not a font.
      createElement: () => ({ getContext: () => ({ measureText: (t: string) => ({ width: t.length * 7 }) }) }),
    },
    getComputedStyle: () => ({ fontFamily: 'sans-serif' }),
    fetch: (path: string) => Promise.resolve({ ok: true, json: () => Promise.resolve(answer(path)) }),
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
    AbortController,
    Date,
    Math,
    String,
    encodeURIComponent,
  });
  // The poll's promises settle within a few turns of the event loop.
  for (let i = 0; i < 20 && byId('updated').textContent === ''; i++) {
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(byId('live').className.includes('on'), byId('updated').textContent);
  assert.doesNotMatch(byId('updated').textContent, /could not draw/);
  return byId;
}

describe('the local dashboard page', () => {
  it('shows rate-limited calls and calls fallbacks served, in the header and per edge', async () => {
    const store = new TelemetryStore();
    store.recordEmf(emfLine({ version: 'live', code: '429', requests: 1, rateLimited: 1, durations: [] }));
    store.recordEmf(emfLine({ version: 'live', code: '429', requests: 1, rateLimited: 1, durations: [] }));
    store.recordEmf(emfLine({ destination: 'payments-backup', fallbacks: 1 }));
    const $ = await renderPage(store.stats({ windowMs: 60_000 }));
    assert.equal($('kpi-limited').textContent, '2');
    assert.equal($('kpi-fallbacks').textContent, '1');
    const rows = $('edges').tBodies[0]!.innerHTML.split('</tr>').filter(Boolean);
    const cells = (row: string) => [...row.matchAll(/<td[^>]*>([^<]*)/g)].map((m) => m[1]);
    const limited = cells(rows.find((r) => r.includes('>payments<') && r.includes('>live<'))!);
    const backup = cells(rows.find((r) => r.includes('>payments-backup<'))!);
    // source, destination, version, req, rps, success, p50, p95, p99, denied, breaker, limited, fallback
    assert.deepEqual([limited[11], limited[12]], ['2', '0']);
    assert.deepEqual([backup[11], backup[12]], ['0', '1']);
  });
});
