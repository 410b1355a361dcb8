/**
 * The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) loads /_mesh/ from the local mesh while traffic flows, shows every service, and its
 * numbers move. Saves test-artifacts/dashboard.png. Runs on the example app when it is in the tree,
 * else on the observability fixture app (test/support/observ-app).
 */

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { ENV } from '../../shared/names';
import { exampleAssemblies } from '../support/example-assembly';
import { observAssemblies } from '../support/observ-app/assemblies';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '../../test-artifacts');

describe('mesh dashboard in headless Chromium', () => {
  let mesh: LocalMesh;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  let services: string[];
  let traffic: Promise<void> | undefined;
  let stopTraffic = false;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      assert.fail(
        `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does) — the dashboard test cannot run without a browser`,
      );
    }
    const releases = exampleAssemblies() ?? observAssemblies();
    mesh = await startLocalMesh({ assemblies: [releases.release1, releases.release2], port: 0, quiet: true });
    const fns = mesh.registry.listFunctions().filter((f) => f.Environment?.Variables?.[ENV.service]);
    services = fns.map((f) => f.Environment!.Variables![ENV.service]!).sort();
    const entry = fns.find((f) => f.Environment!.Variables![ENV.service] === 'frontend')?.FunctionName;
    assert.ok(entry, `the app has a frontend service (services: ${services.join(', ')})`);
    const lambda = new LambdaClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    // Steady traffic for the whole test, as an operator watching the dashboard would have.
    traffic = (async () => {
      for (let i = 0; !stopTraffic; i++) {
        await lambda
          .send(
            new InvokeCommand({
              FunctionName: entry,
              Qualifier: 'live',
              Payload: Buffer.from(JSON.stringify({ admin: i % 10 === 0, item: `n${i}` })),
            }),
          )
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
      lambda.destroy();
    })();
    profile = mkdtempSync(join(tmpdir(), 'mesh-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1500, height: 1100 },
    });
    page = await browser.newPage();
  });

  after(async () => {
    stopTraffic = true;
    await traffic;
    await browser?.close();
    await mesh?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads, shows every service, and its numbers change as traffic flows', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${mesh.url}/_mesh/`);
    assert.equal(await page.title(), 'Lambda Mesh — local dashboard');

    // Every service of the app appears as a node of the graph (services only show once they take traffic).
    for (const s of services) {
      await page.waitForSelector(`#graph g.node[data-service="${s}"]`, { timeout: 20_000 });
    }
    const requests = async () => Number(await page.textContent('#kpi-requests'));
    const first = await requests();
    await page.waitForFunction(
      (n) => {
        type Page = { document: { querySelector(s: string): { textContent: string | null } | null } };
        return Number((globalThis as unknown as Page).document.querySelector('#kpi-requests')?.textContent) > n;
      },
      first,
      { timeout: 20_000 },
    );
    assert.ok((await requests()) > first, 'the request count grows while traffic flows');

    // Edges carry a live success rate and latency; the per-version canary split is shown.
    const label = await page.textContent('#graph g.edge-label');
    assert.match(label ?? '', /\d+(\.\d)?% · [\d.]+\/s\s*p99 [\d.]+m?s/);
    const edgeRows = await page.$$eval('#edges tbody tr[data-edge]', (rows) =>
      rows.map((r) => r.getAttribute('data-edge')),
    );
    assert.ok(
      edgeRows.some((e) => e?.startsWith('orders->payments@')),
      `edges: ${edgeRows.join(', ')}`,
    );
    await page.waitForSelector('#services tr[data-service="payments"] .split div:nth-child(2)', { timeout: 20_000 });

    // A trace opens as a waterfall with one row per hop.
    await page.click('#traces tr[data-trace]');
    await page.waitForSelector('#waterfall .wf-row', { timeout: 10_000 });
    const hops = await page.$$eval('#waterfall .wf-row', (rows) => rows.length);
    assert.ok(hops >= 3, `waterfall rows: ${hops}`);

    assert.deepEqual(errors, [], 'no script errors on the page');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    assert.ok(existsSync(join(ARTIFACTS, 'dashboard.png')));
  });
});
