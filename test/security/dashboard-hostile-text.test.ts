/**
 * The local dashboard as the target, in headless Chromium. What it shows is written by others: service
 * names and versions come from EMF lines any function prints, span names and annotations from the
 * segments it sends, alias rows from function configuration, deployment notes and alarm reasons from
 * what the deployment saw, a deny's reason from the operator who wrote it. Markup in any of them must show as text: no element, no handler, no script.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { handleMeshRequest } from '../../local/dashboard/routes';
import { TelemetryStore } from '../../local/telemetry/telemetry-store';
import { type HeadlessBrowser, launchHeadless } from '../support/chromium';
import { emfLine, newSegmentId, newTraceId } from '../support/observ-fixtures';

/** Each closes what it sits in (an attribute, an SVG text, a table cell) and sets a flag if it runs. */
const HOSTILE = [
  `<img src=x onerror="window.__ran=(window.__ran||0)+1">`,
  `"><svg onload="window.__ran=(window.__ran||0)+1">`,
  `'></text><script>window.__ran=(window.__ran||0)+1</script>`,
];
const NAME = HOSTILE.join('');

function hostileStore(): { store: TelemetryStore; traceId: string } {
  const store = new TelemetryStore();
  store.recordEmf(emfLine({ source: NAME, destination: 'payments', version: NAME }));
  store.recordEmf(emfLine({ source: 'orders', destination: NAME, version: '2', code: '500', reporter: 'destination' }));
  const traceId = newTraceId();
  const root = newSegmentId();
  const t0 = Date.now() / 1000;
  store.recordSegment({ trace_id: traceId, id: root, name: NAME, start_time: t0, end_time: t0 + 0.1 });
  store.recordSegment({
    type: 'subsegment',
    trace_id: traceId,
    parent_id: root,
    id: newSegmentId(),
    name: NAME,
    start_time: t0 + 0.01,
    end_time: t0 + 0.05,
    annotations: { source: NAME, target: NAME, version: NAME, outcome: NAME },
  });
  return { store, traceId };
}

/** What the page reads of a gated deployment (the local mesh's /_mesh/deployments), every text hostile. */
const deployments = () => ({
  deployments: [
    {
      id: NAME,
      service: NAME,
      from: NAME,
      to: NAME,
      config: NAME,
      status: NAME,
      rolledBack: true,
      startedAt: Date.now() - 5_000,
      endedAt: Date.now(),
      alarms: [{ name: NAME, state: NAME, reason: NAME }],
      notes: [{ at: Date.now() - 1_000, afterMs: 4_000, text: NAME }],
    },
  ],
});

describe('the dashboard under hostile text, in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: BrowserContext;
  let headless: HeadlessBrowser;
  let traceId: string;

  before(async () => {
    const hostile = hostileStore();
    traceId = hostile.traceId;
    const view = {
      liveAliases: () => [{ service: NAME, stable: NAME, weights: { [NAME]: 0.1 } }],
      controlFunctions: () => new Set<string>(),
      // An operator's deny names services and carries a reason: both are text from others.
      policyEdges: async () => [{ from: NAME, to: NAME, state: 'denied' as const, managedBy: NAME, reason: NAME }],
    };
    server = createServer((req, res) => {
      if (req.url === '/_mesh/deployments') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(deployments()));
        return;
      }
      if (!handleMeshRequest(req, res, hostile.store, view)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    headless = await launchHeadless();
    browser = headless.browser;
  });

  after(async () => {
    await headless?.close();
    await new Promise((r) => server?.close(r));
  });

  it('shows every hostile name as text and runs none of it', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${url}/_mesh/`);
    // Everything the page draws from the hostile data: graph, tables, deployments, the trace's waterfall.
    await page.waitForSelector('#services tbody tr[data-service]');
    await page.waitForSelector('#graph g.node');
    await page.waitForSelector('#deployments tbody tr');
    await page.waitForSelector('#policy tbody tr[data-edge]');
    await page.click(`#traces tr[data-trace="${traceId}"]`);
    await page.waitForSelector('#waterfall .wf-row');
    assert.equal(
      await page.evaluate(() => (globalThis as { __ran?: number }).__ran),
      undefined,
      'no injected code ran',
    );
    assert.deepEqual(dialogs, []);
    const injected = await page.$$eval(
      'img, [onload], [onerror], script',
      (els) => els.filter((e) => e.tagName !== 'SCRIPT' || (e.textContent ?? '').includes('__ran')).length,
    );
    assert.equal(injected, 0, 'no element came from the data');
    // Shown, as written: the operator sees what was sent.
    for (const where of ['#services tbody', '#edges tbody', '#waterfall', '#deployments tbody', '#policy tbody'])
      assert.ok(((await page.textContent(where)) ?? '').includes(HOSTILE[0]!), `${where} shows the name as text`);
    assert.ok(((await page.textContent('#graph')) ?? '').includes(HOSTILE[1]!), 'the graph names the node as text');
    await page.close();
  });
});
