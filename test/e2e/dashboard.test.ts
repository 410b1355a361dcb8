/**
 * The dashboard in a real browser: headless Chromium (from npm, see test/support/chromium.ts; driven by
 * playwright-core) loads /_mesh/ from the local mesh while traffic flows, shows every service, and its
 * numbers move. Every call of that traffic must succeed, and the page must say so: a mesh whose calls
 * fail fails this test. The gated deploy of release 2 shows in the deployments table as CodeDeploy and
 * CloudWatch report it through the AWS SDK; each service's live alias as GetAlias reports it; the app's
 * traces without the mesh's control functions' unless asked; and `mesh tap` following the access log the
 * functions print under that traffic. Saves test-artifacts/dashboard.png. Runs on the example app when it is in the
 * tree, else on the observability fixture app (test/support/observ-app).
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { BrowserContext, Page } from 'playwright-core';
import { handleMeshRequest } from '../../local/dashboard/routes';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { DEPLOYMENT, ENV } from '../../shared/names';
import { type HeadlessBrowser, launchHeadless } from '../support/chromium';
import { exampleAssemblies } from '../support/example-assembly';
import { cliEnv, meshArgs } from '../support/mesh-cli';
import { observAssemblies } from '../support/observ-app/assemblies';
import { scaleDashboard } from '../support/scale-dashboard';

const ARTIFACTS = join(__dirname, '../../test-artifacts');
const VIEWPORT = { width: 1500, height: 1100 };

/** Width and height from a PNG's IHDR chunk (bytes 16-23). */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG file');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The success rate a label or KPI shows ("99.5%", "100%"), as a share; NaN when it shows none. */
const shownRate = (text: string | null) => Number(/(\d+(?:\.\d)?)%/.exec(text ?? '')?.[1] ?? Number.NaN) / 100;

/** The tables drawn past their panel's right edge: scrolled inside it, or spilling over the page. */
function tablesPastPanels(page: Page): Promise<string[]> {
  return page.$$eval('section table', (tables) =>
    tables.flatMap((t) => {
      type Box = { right: number };
      type El = { getBoundingClientRect(): Box; closest(s: string): El | null; id: string };
      type Win = { getComputedStyle(e: El): { overflowX: string } };
      const el = t as unknown as El;
      const panel = el.closest('section')!;
      const clipped = (globalThis as unknown as Win).getComputedStyle(panel).overflowX !== 'visible';
      const over = el.getBoundingClientRect().right - panel.getBoundingClientRect().right;
      return over > 1 ? [`#${el.id} ${clipped ? 'scrolled' : 'spilling'} by ${Math.round(over)}px`] : [];
    }),
  );
}

describe('mesh dashboard in headless Chromium', () => {
  let mesh: LocalMesh;
  let browser: BrowserContext;
  let page: Page;
  let headless: HeadlessBrowser;
  let services: string[];
  let traffic: Promise<void> | undefined;
  let stopTraffic = false;
  /** The example app runs the real mesh layer; the fixture app's stand-in writes no access log. */
  let realRuntime = false;
  /** What the traffic saw: calls answered without an error, and the errors of the others. */
  const outcome = { ok: 0, failures: [] as string[] };
  /** Every call into the mesh, warm-up included: what the entry edge of the page must show. */
  const entryCalls = { ok: 0, failed: 0 };

  before(async () => {
    const example = exampleAssemblies();
    realRuntime = example !== undefined;
    const releases = example ?? observAssemblies();
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
    const checkout = (i: number) =>
      lambda.send(
        new InvokeCommand({
          FunctionName: entry,
          Qualifier: 'live',
          Payload: Buffer.from(JSON.stringify({ item: `n${i}` })),
        }),
      );
    // Warm-up: the first call starts every function of the chain (cold starts take seconds on a busy
    // machine); the measured traffic starts once one call has gone through.
    for (let i = 0; i < 10; i++) {
      const r = await checkout(-1).catch(() => undefined);
      const ok = r !== undefined && !r.FunctionError;
      entryCalls[ok ? 'ok' : 'failed']++;
      if (ok) break;
    }
    // Steady traffic for the whole test, as an operator watching the dashboard would have. Each call
    // is checked: the page must show a healthy mesh because it is one, not because errors went unseen.
    traffic = (async () => {
      for (let i = 0; !stopTraffic; i++) {
        try {
          const out = await checkout(i);
          const body = Buffer.from(out.Payload ?? []).toString('utf8');
          if (out.FunctionError) outcome.failures.push(`call ${i}: ${out.FunctionError} ${body}`);
          else outcome.ok++;
          entryCalls[out.FunctionError ? 'failed' : 'ok']++;
        } catch (err) {
          outcome.failures.push(`call ${i}: ${(err as Error).name}: ${(err as Error).message}`);
          entryCalls.failed++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      lambda.destroy();
    })();
    headless = await launchHeadless(VIEWPORT);
    browser = headless.browser;
    page = await browser.newPage();
  });

  after(async () => {
    stopTraffic = true;
    await traffic;
    await headless?.close();
    await mesh?.stop();
  });

  it('shows the gated deploy as CodeDeploy and CloudWatch report it', async (t) => {
    const aws = {
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const codedeploy = new CodeDeployClient(aws);
    const cloudwatch = new CloudWatchClient(aws);
    try {
      const [app] = (await codedeploy.send(new ListApplicationsCommand({}))).applications ?? [];
      if (!app) return t.skip('this app declares no gated deployment');
      const [group] = (await codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: app })))
        .deploymentGroups!;
      const ids = (
        await codedeploy.send(new ListDeploymentsCommand({ applicationName: app, deploymentGroupName: group }))
      ).deployments!;
      assert.ok(ids.length > 0, `release 2 started a deployment of ${group}`);
      const info = (await codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids }))).deploymentsInfo!;
      const d = info.find((x) => x.creator !== 'codeDeployRollback')!;
      const routing = (
        await codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: d.deploymentConfigName! }))
      ).deploymentConfigInfo!.trafficRoutingConfig!;
      const alarms = (
        await codedeploy.send(new GetDeploymentGroupCommand({ applicationName: app, deploymentGroupName: group }))
      ).deploymentGroupInfo!.alarmConfiguration!.alarms!.map((a) => a.name!);
      assert.ok(alarms.length >= 2, `the group's rollback alarms: ${alarms.join(', ')}`);

      await page.goto(`${mesh.url}/_mesh/`);
      const row = `#deployments tr[data-deployment="${d.deploymentId}"]`;
      await page.waitForSelector(row, { timeout: 20_000 });
      assert.equal(await page.isVisible('#deployments-wrap'), true, 'the section shows once a deployment exists');
      const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent ?? ''));
      t.diagnostic(`deployments row: ${cells.join(' | ')}`);
      assert.equal(cells[0], d.deploymentId);
      assert.equal(cells[1], group);
      // The versions: what the alias served before, and the version release 2 published.
      assert.match(cells[2]!, /^v\d+ → v\d+$/);
      const [from, to] = cells[2]!.match(/\d+/g)!.map(Number);
      assert.ok(to! > from!, `deploys a newer version: ${cells[2]}`);
      const canary = routing.timeBasedCanary;
      const expected = canary
        ? `canary ${canary.canaryPercentage}% for ${canary.canaryInterval} min, then all`
        : routing.timeBasedLinear
          ? `linear ${routing.timeBasedLinear.linearPercentage}% every ${routing.timeBasedLinear.linearInterval} min`
          : 'all at once';
      assert.equal(cells[3], expected, `the config as GetDeploymentConfig reports ${d.deploymentConfigName}`);
      // The status as CodeDeploy reports it: still running at CodeDeploy's own pace, its first step or its check.
      const now = (await codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: [d.deploymentId!] })))
        .deploymentsInfo![0]!;
      if (now.status === 'InProgress' || now.status === 'Created') {
        const pct = canary?.canaryPercentage ?? routing.timeBasedLinear?.linearPercentage;
        assert.match(cells[4]!, new RegExp(`^(pre-traffic check|step 1/\\d+: ${pct}% on v${to} · next in \\d+s)$`));
      } else {
        assert.match(cells[4]!, new RegExp(`^${now.status}`));
      }
      // One chip per rollback alarm of the group, each in the state CloudWatch reports (polled: a state
      // may change between the page's read and the SDK's).
      const described = async () =>
        new Map(
          ((await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: alarms }))).MetricAlarms ?? []).map((a) => [
            a.AlarmName!,
            a.StateValue!,
          ]),
        );
      const chips = () =>
        page.$$eval(`${row} td:nth-child(6) .chip`, (els) => els.map((e) => (e.textContent ?? '').split(' ').pop()));
      let shown: (string | undefined)[] = [];
      let states = new Map<string, string>();
      for (let end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) {
        states = await described();
        shown = await chips();
        if (JSON.stringify(shown.slice().sort()) === JSON.stringify([...states.values()].sort())) break;
      }
      assert.equal(states.size, alarms.length, 'DescribeAlarms knows every alarm of the group');
      assert.deepEqual(shown.slice().sort(), [...states.values()].sort(), 'one chip per alarm, in its state');
      // What happened, timed from the creation: the deployment's first note is its creation, at 0.0 s.
      assert.match(cells[6]!, /^0\.0s created: /);
    } finally {
      codedeploy.destroy();
      cloudwatch.destroy();
    }
  });

  it('marks the pre-traffic check on the graph as what it is, as mesh stat does, not as a service without traffic', async (t) => {
    const codedeploy = new CodeDeployClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const [app] = (await codedeploy.send(new ListApplicationsCommand({}))).applications ?? [];
      if (!app) return t.skip('this app declares no gated deployment');
    } finally {
      codedeploy.destroy();
    }
    await page.goto(`${mesh.url}/_mesh/`);
    // The check called the new version once, when release 2's deployment started: the widest window holds it.
    await page.selectOption('#window', '15m');
    const node = `#graph g.node[data-service="${DEPLOYMENT.checkSource}"]`;
    await page.waitForSelector(node, { timeout: 30_000 });
    assert.equal(await page.getAttribute(node, 'data-caller'), 'deploy-check');
    assert.equal(await page.textContent(`${node} .node-sub`), 'pre-traffic check');
    assert.match((await page.textContent(`${node} title`)) ?? '', /pre-traffic check of gated deployments/);
    // No node of the graph reads as a service that takes no traffic: every one here calls or is called.
    const idle = await page.$$eval('#graph g.node', (nodes) =>
      nodes
        .filter((n) => (n.textContent ?? '').includes('no inbound traffic'))
        .map((n) => n.getAttribute('data-service')),
    );
    assert.deepEqual(idle, [], 'nodes shown as services without inbound traffic');
    assert.equal(
      await page
        .$$eval('#services tbody tr[data-service]', (rows) => rows.map((r) => r.getAttribute('data-service')))
        .then((l) => l.includes(DEPLOYMENT.checkSource)),
      false,
      'no row of the services table',
    );
    // mesh stat says the same of the same source, under its edges.
    const stat = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      void meshArgs(['stat', '--window', '15m', '--endpoint-url', mesh.url]).then((args) =>
        execFile(process.execPath, args, { env: cliEnv(), timeout: 60_000 }, (err, out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: stderr }),
        ),
      );
    });
    assert.equal(stat.code, 0, stat.err);
    assert.match(stat.out, /^mesh-deploy-check +-> payments /m);
    assert.match(stat.out, /^mesh-deploy-check: the pre-traffic check of gated deployments, no service/m);
    assert.doesNotMatch(stat.out, /^mesh-deploy-check +\d/m, 'no row of the services table');
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

    // The traffic was served: every call answered without an error (waiting, bounded, for 5 answers)...
    for (let t = Date.now(); outcome.ok + outcome.failures.length < 5 && Date.now() - t < 120_000; )
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(outcome.ok >= 5, `calls served: ${outcome.ok}, failed: ${outcome.failures.length}`);
    assert.deepEqual(outcome.failures, [], 'every call of the traffic succeeds');
    // ...and the page says so: the edge from outside shows the share of those calls that succeeded
    // (warm-up included; one call may be in flight), not 0% or "–"; the overall success is a number.
    const entryLabel = await page.textContent('#graph g.edge-label[data-edge="external->frontend"]');
    assert.match(entryLabel ?? '', /\d+(\.\d)?% · [\d.]+\/s\s*p99 [\d.]+m?s/);
    const calls = entryCalls.ok + entryCalls.failed;
    assert.ok(
      Math.abs(shownRate(entryLabel) - entryCalls.ok / calls) <= 0.05 + 1 / calls,
      `external -> frontend shows ${entryLabel}; ${entryCalls.ok} of ${calls} calls succeeded`,
    );
    assert.match((await page.textContent('#kpi-success')) ?? '', /^\d+(\.\d)?%$/);

    // Edges carry a live success rate and latency; the per-version canary split is shown.
    const edgeRows = await page.$$eval('#edges tbody tr[data-edge]', (rows) =>
      rows.map((r) => r.getAttribute('data-edge')),
    );
    assert.ok(
      edgeRows.some((e) => e?.startsWith('orders->payments@')),
      `edges: ${edgeRows.join(', ')}`,
    );
    await page.waitForSelector('#services tr[data-service="payments"] .split div:nth-child(2)', { timeout: 20_000 });

    // No table paints outside its panel: a panel holds its table, or in a narrow window scrolls it. At
    // this width (a laptop's) none needs to: every column is in view.
    const overflows = await tablesPastPanels(page);
    assert.deepEqual(overflows, [], 'tables wider than their panel');
    // The graph is drawn near its own size: a service's name as large as the page's text, not shrunk
    // to fit a tall drawing into a short box.
    const nameHeight = await page.$eval('#graph text[font-weight="600"]', (t) => t.getBoundingClientRect().height);
    assert.ok(nameHeight >= 12, `a service's name in the graph is ${nameHeight.toFixed(1)}px tall`);

    // A checkout's trace opens as a waterfall with one row per hop. Where the app tells a consumer of each order through a queue
    // (the example shop: notifications), the trace crosses that asynchronous hop too.
    const consumer = services.includes('notifications') ? 'notifications' : undefined;
    let checkoutRow = page.locator('#traces tr[data-trace]', { hasText: 'frontend' });
    if (consumer) checkoutRow = checkoutRow.filter({ hasText: consumer });
    await checkoutRow.first().waitFor({ timeout: 20_000 });
    await checkoutRow.first().click();
    await page.waitForSelector('#waterfall .wf-row', { timeout: 10_000 });
    const hops = await page.$$eval('#waterfall .wf-row .wf-name', (rows) => rows.map((r) => r.getAttribute('title')));
    assert.ok(hops.length >= 3, `waterfall rows: ${hops.join(', ')}`);
    if (consumer)
      assert.ok(
        hops.some((h) => h?.includes(consumer)),
        `the ${consumer} span in: ${hops.join(', ')}`,
      );

    assert.deepEqual(errors, [], 'no script errors on the page');
    // The screenshot is the whole page, drawn: the viewport's width, at least its height, and far more
    // detail than a blank page of the same size compresses to.
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    const size = pngSize(png);
    assert.equal(size.width, VIEWPORT.width);
    assert.ok(size.height >= VIEWPORT.height, `screenshot height ${size.height}`);
    const blank = await browser.newPage();
    const empty = await blank.screenshot({ fullPage: true });
    await blank.close();
    assert.ok(png.length > 10 * empty.length, `dashboard.png has ${png.length} bytes, a blank page ${empty.length}`);
  });

  it('mesh tap follows the calls the traffic makes, as the functions log them', async (t) => {
    if (!realRuntime) return t.skip("the fixture app's stand-in runtime writes no access log");
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      void meshArgs(['tap', '--to', 'frontend', '--count', '2', '--json', '--endpoint-url', mesh.url]).then((args) =>
        execFile(process.execPath, args, { env: cliEnv(), timeout: 60_000 }, (err, out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: stderr }),
        ),
      );
    });
    assert.equal(r.code, 0, r.err);
    const lines = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2, r.out);
    for (const l of lines) {
      // Callers outside the mesh log nothing: each checkout is frontend's own line.
      assert.equal(l.type, 'mesh-access');
      assert.equal(l.source, 'external');
      assert.equal(l.destination, 'frontend');
      assert.equal(l.reporter, 'destination');
    }
  });

  it('fits a phone and a small laptop: no page-wide scroll, deployments read whole', async () => {
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 1024, height: 768 },
    ]) {
      const small = await browser.newPage();
      try {
        await small.setViewportSize(viewport);
        await small.goto(`${mesh.url}/_mesh/`);
        await small.waitForSelector('#graph g.node', { timeout: 20_000 });
        // A wide table or the graph scrolls inside its panel; the page itself never scrolls sideways.
        const [scroll, client] = await small.evaluate(() => {
          const root = (
            globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
          ).document.documentElement;
          return [root.scrollWidth, root.clientWidth];
        });
        assert.ok(scroll <= client, `at ${viewport.width}px the page is ${scroll}px wide`);
        // An alarm's chip ("SuccessRate OK") is one line, never broken inside a word.
        const broken = await small.$$eval('#deployments .chip', (chips) =>
          chips
            .filter(
              (c) =>
                (c as unknown as { getClientRects(): unknown[] }).getClientRects().length > 1 ||
                c.getBoundingClientRect().height > 20,
            )
            .map((c) => c.textContent),
        );
        assert.deepEqual(broken, [], `alarm chips broken over lines at ${viewport.width}px`);
      } finally {
        await small.close();
      }
    }
  });

  it('draws fifty services with long names apart and readable, says who is refused, labels every canary', async () => {
    // The scale runs' mesh, served by the dashboard's own routes from a store of its telemetry: the
    // page is the same; no second mesh runs.
    const big = scaleDashboard(50);
    const server = createServer((req, res) => {
      if (!handleMeshRequest(req, res, big.store, big.view)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const wide = await browser.newPage();
    try {
      await wide.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/_mesh/`);
      await wide.waitForSelector('#policy tbody tr[data-state="denied"]', { timeout: 20_000 });
      await wide.waitForFunction(
        (n) =>
          (
            globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
          ).document.querySelectorAll('#graph g.node').length >= n,
        big.services.length,
      );
      await wide.screenshot({ path: join(tmpdir(), 'dashboard-scale.png'), fullPage: true });
      const graph = await wide.evaluate(() => {
        type Box = { x: number; y: number; width: number; height: number };
        type El = {
          getBBox(): Box;
          getBoundingClientRect(): Box;
          getAttribute(n: string): string | null;
          querySelector(s: string): El | null;
          textContent: string | null;
        };
        const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } }).document;
        // SVG boxes do not cross into the test as they are, only their numbers do (and no named
        // function crosses into the page: the test's transpiler would wrap it in a helper the page lacks).
        const nodes = [...doc.querySelectorAll('#graph g.node')].map((g) => ({
          name: g.getAttribute('data-service')!,
          title: g.querySelector('title')?.textContent,
          rect: [g.querySelector('rect')!.getBBox()].map((b) => ({
            x: b.x,
            y: b.y,
            width: b.width,
            height: b.height,
          }))[0]!,
          text: [g.querySelector('text.node-name')!.getBBox()].map((b) => ({
            x: b.x,
            y: b.y,
            width: b.width,
            height: b.height,
          }))[0]!,
          shown: g.querySelector('text.node-name')!.getBoundingClientRect().height,
        }));
        const labels = [...doc.querySelectorAll('#graph g.edge-label rect')]
          .map((r) => r.getBBox())
          .map((b) => ({ x: b.x, y: b.y, width: b.width, height: b.height }));
        const svg = [...doc.querySelectorAll('#graph')][0]!.getBoundingClientRect();
        const panel = [...doc.querySelectorAll('#graph-wrap')][0]!.getBoundingClientRect();
        return { nodes, labels, svg: { width: svg.width, height: svg.height }, panel: panel.width };
      });
      type Box = { x: number; y: number; width: number; height: number };
      const overlap = (a: Box, b: Box) =>
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      const clashes: string[] = [];
      const boxes = [
        ...graph.nodes.map((n) => ({ what: `node ${n.name}`, box: n.rect })),
        ...graph.labels.map((box, i) => ({ what: `label ${i}`, box })),
      ];
      boxes.forEach((a, i) => {
        for (const b of boxes.slice(i + 1)) if (overlap(a.box, b.box)) clashes.push(`${a.what} / ${b.what}`);
      });
      assert.deepEqual(clashes.slice(0, 5), [], `${clashes.length} overlaps in the graph`);
      for (const n of graph.nodes) {
        assert.ok(
          n.text.width <= n.rect.width - 8,
          `${n.name}'s name fits its node (${n.text.width} of ${n.rect.width})`,
        );
        assert.equal(n.title, n.name, 'the whole name on hover');
        assert.ok(n.shown >= 12, `${n.name}'s name is ${n.shown.toFixed(1)}px tall`);
      }
      // Not a hairball: the drawing keeps to its panel's width, and only edges that need a look carry a label.
      assert.ok(graph.svg.width <= graph.panel, `the graph is ${graph.svg.width}px wide in a ${graph.panel}px panel`);
      assert.ok(graph.labels.length <= 5, `${graph.labels.length} edge labels`);
      assert.deepEqual(await tablesPastPanels(wide), [], 'tables wider than their panel');

      // Refused calls: the callee's row is not green, and says how many; the pair has no edge.
      const row = `#services tr[data-service="${big.refused.to}"]`;
      assert.equal(await wide.textContent(`${row} td.denied`), '7');
      assert.equal(await wide.getAttribute(`${row} td:nth-child(2)`, 'class'), 'num bad');
      assert.equal(
        await wide.getAttribute(`#policy tr[data-edge="${big.refused.from}->${big.refused.to}"]`, 'data-state'),
        'none',
      );
      assert.match(
        (await wide.textContent(`#graph g.node[data-service="${big.refused.to}"] .node-sub`)) ?? '',
        /^denied 7/,
      );
      // The deny no call has met: on the graph and in the policy's table.
      const quiet = `${big.quietDeny.from}->${big.quietDeny.to}`;
      assert.equal(await wide.getAttribute(`#graph g.edge[data-edge="${quiet}"]`, 'data-policy'), 'denied');
      assert.match((await wide.textContent(`#graph g.edge-label[data-edge="${quiet}"]`)) ?? '', /DENIED by operator/);
      assert.match((await wide.textContent(`#policy tr[data-edge="${quiet}"]`)) ?? '', /DENIED.*operator.*incident-42/);
      // Every slice of a split names its version and share, the 10% canaries' too, unclipped.
      const slices = await wide.$$eval('#services .split div', (divs) =>
        divs.map((d) => ({ text: d.textContent ?? '', clipped: d.scrollWidth > d.clientWidth })),
      );
      assert.ok(
        slices.some((x) => x.text.startsWith('v2 10%')),
        `slices: ${slices.map((x) => x.text).join(', ')}`,
      );
      assert.deepEqual(
        slices.filter((x) => !/^v\d+ \d+%/.test(x.text) || x.clipped),
        [],
        'slices without a whole label',
      );
    } finally {
      await wide.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('says when the mesh stops answering or answers slowly, and dims the numbers it last had', async () => {
    const watched = await browser.newPage();
    /** Polls the page holds open (a mesh that answers nothing); refused once the test is done. */
    const held: { abort(): Promise<void> }[] = [];
    type Doc = { document: { body: { classList: { contains(c: string): boolean } } } };
    const stale = (on: boolean) =>
      watched.waitForFunction(
        (want) => (globalThis as unknown as Doc).document.body.classList.contains('stale') === want,
        on,
        {
          timeout: 30_000,
        },
      );
    try {
      await watched.goto(`${mesh.url}/_mesh/`);
      await watched.waitForSelector('#graph g.node', { timeout: 20_000 });
      const live = (await watched.textContent('#updated')) ?? '';
      assert.match(live, /^updated /);
      // The mesh stops: every poll is refused.
      await watched.route('**/_mesh/stats*', (route) => route.abort('connectionrefused'));
      await stale(true);
      const down = (await watched.textContent('#updated')) ?? '';
      assert.match(down, /^mesh unreachable .*numbers below are from \S+/, down);
      assert.equal(await watched.getAttribute('#updated', 'role'), 'status', 'read out when it changes');
      // It comes back: the page says so by itself.
      await watched.unroute('**/_mesh/stats*');
      await stale(false);
      assert.match((await watched.textContent('#updated')) ?? '', /^updated /);
      // A mesh that takes no answer at all (a stopped process holding its port): not live either.
      await watched.route('**/_mesh/stats*', (route) => {
        held.push(route);
      });
      await stale(true);
      assert.match((await watched.textContent('#updated')) ?? '', /^no answer from the mesh .*numbers below are from /);
    } finally {
      await watched.unrouteAll({ behavior: 'ignoreErrors' });
      for (const r of held) await r.abort().catch(() => undefined);
      await watched.close();
    }
  });

  it('names the time zone of every time it shows', async () => {
    await page.goto(`${mesh.url}/_mesh/`);
    await page.locator('#traces tr[data-trace]').first().waitFor({ timeout: 20_000 });
    const zone = await page.evaluate(
      () =>
        new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
          .formatToParts(new Date())
          .find((p) => p.type === 'timeZoneName')!.value,
    );
    const updated = (await page.textContent('#updated')) ?? '';
    assert.ok(updated.endsWith(` ${zone}`), `"${updated}" names the zone ${zone}`);
    const header = (await page.textContent('#traces thead th:first-child')) ?? '';
    assert.ok(header.includes(zone), `the traces' time column "${header}" names the zone ${zone}`);
  });

  it('opens a trace from the keyboard, and keeps the focus in the list as it refreshes', async () => {
    await page.goto(`${mesh.url}/_mesh/`);
    await page.locator('#traces tr[data-trace]').first().waitFor({ timeout: 20_000 });
    type Doc = { document: { activeElement: { matches(s: string): boolean } | null } };
    const focused = () =>
      page.evaluate(
        () => (globalThis as unknown as Doc).document.activeElement?.matches('#traces tr[data-trace]') ?? false,
      );
    // Tab from the box just before the list lands on its first row.
    await page.focus('#show-control');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), true, 'a trace row takes the focus');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#waterfall .wf-row', { timeout: 10_000 });
    // The list is drawn again on every poll: the focus stays on a row, not thrown back to the page.
    const before = await page.textContent('#updated');
    await page.waitForFunction(
      (b) =>
        (
          globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }
        ).document.querySelector('#updated')?.textContent !== b,
      before,
      {
        timeout: 20_000,
      },
    );
    assert.equal(await focused(), true, 'the focus after a refresh');
    const scopes = await page.$$eval(
      'thead th',
      (ths) => ths.filter((th) => th.getAttribute('scope') !== 'col').length,
    );
    assert.equal(scopes, 0, 'every column header says it heads a column');
  });

  it('shows each live alias as GetAlias reports it, beside the split traffic shows', async () => {
    const lambda = new LambdaClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    /** "v1 90% / v2 10%", as an operator reads the alias: the stable version takes what the weights leave. */
    const configured = async (service: string) => {
      const fn = mesh.registry
        .listFunctions()
        .find((f) => f.Environment?.Variables?.[ENV.service] === service)!.FunctionName;
      const a = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
      const extra = Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {});
      const rest = 1 - extra.reduce((t, [, w]) => t + w, 0);
      return [[a.FunctionVersion!, rest] as const, ...extra]
        .map(([v, w]) => `v${v} ${Math.round(w * 1000) / 10}%`)
        .join(' / ');
    };
    try {
      await page.goto(`${mesh.url}/_mesh/`);
      for (const service of services) {
        const cell = `#services tr[data-service="${service}"] td.alias`;
        await page.waitForSelector(cell, { timeout: 20_000 });
        // A gated deploy moves the alias while the test reads it: poll until the page and GetAlias agree.
        let want = '';
        let shown: string | null = null;
        for (let end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
          want = await configured(service);
          shown = await page.textContent(cell);
          if (shown === want) break;
        }
        assert.equal(shown, want, `${service}'s live alias`);
      }
    } finally {
      lambda.destroy();
    }
  });

  it('shows a deny as mesh status does, before and after it refuses calls, and the refused service not healthy', async () => {
    const runMesh = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        void meshArgs([...args, '--endpoint-url', mesh.url]).then((a) =>
          execFile(process.execPath, a, { env: cliEnv(), timeout: 60_000 }, (err, out, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: stderr }),
          ),
        );
      });
    await page.goto(`${mesh.url}/_mesh/`);
    // A deny no call meets (nothing calls orders from payments): the page shows it all the same.
    assert.equal((await runMesh(['policy', 'deny', 'payments', 'orders', '--reason', 'drill'])).code, 0);
    const quiet = '#graph g.edge[data-edge="payments->orders"][data-policy="denied"]';
    await page.waitForSelector(quiet, { timeout: 20_000 });
    assert.match((await page.textContent('#policy tr[data-edge="payments->orders"]')) ?? '', /DENIED.*operator.*drill/);
    // A deny the traffic meets: the callee's row counts the refused calls and is not green.
    assert.equal((await runMesh(['policy', 'deny', 'orders', 'inventory'])).code, 0);
    try {
      const denied = '#services tr[data-service="inventory"] td.denied.bad';
      await page.waitForSelector(denied, { timeout: 30_000 });
      assert.equal(
        await page.getAttribute('#services tr[data-service="inventory"] td:nth-child(2)', 'class'),
        'num bad',
      );
      assert.equal(await page.getAttribute('#policy tr[data-edge="orders->inventory"]', 'data-state'), 'denied');
    } finally {
      for (const [from, to] of [
        ['orders', 'inventory'],
        ['payments', 'orders'],
      ])
        assert.equal((await runMesh(['policy', 'delete', to!, `deny#${from}`])).code, 0);
    }
  });

  it("lists the app's traces, and the mesh's control functions' only when asked", async () => {
    const fns = mesh.registry.listFunctions();
    const control = new Set(fns.filter((f) => !f.Environment?.Variables?.[ENV.service]).map((f) => f.FunctionName));
    // The traffic stops so the newest traces stay put, then the identity issuer (a control function)
    // rotates frontend's identity, as its schedule would: its trace is the newest.
    stopTraffic = true;
    await traffic;
    const frontend = fns.find((f) => f.Environment?.Variables?.[ENV.service] === 'frontend')!;
    const secrets = new SecretsManagerClient({
      endpoint: mesh.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await secrets.send(new RotateSecretCommand({ SecretId: frontend.Environment!.Variables![ENV.identitySecret]! }));
    } finally {
      secrets.destroy();
    }
    const newest = async () =>
      ((await (await fetch(`${mesh.url}/_mesh/traces?limit=15`)).json()) as { traces: { root: string }[] }).traces;
    for (let end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 300)))
      if ((await newest()).some((t) => control.has(t.root))) break;
    const issuerRoots = (await newest()).filter((t) => control.has(t.root)).map((t) => t.root);
    assert.ok(issuerRoots.length > 0, 'the rotation left a control function trace among the newest');

    await page.goto(`${mesh.url}/_mesh/`);
    const roots = () =>
      page.$$eval('#traces tr[data-trace]', (rows) => rows.map((r) => r.getAttribute('data-root') ?? ''));
    await page.locator('#traces tr[data-trace]').first().waitFor({ timeout: 20_000 });
    const app = await roots();
    assert.deepEqual(
      app.filter((r) => control.has(r)),
      [],
      `the default list holds the app's traces only: ${app.join(', ')}`,
    );
    assert.match(
      (await page.textContent('#traces-hidden')) ?? '',
      /^\d+ traces? of the mesh's control functions left out$/,
    );
    await page.check('#show-control');
    let all: string[] = [];
    for (let end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 300))) {
      all = await roots();
      if (all.some((r) => control.has(r))) break;
    }
    assert.ok(
      all.some((r) => control.has(r)),
      `with the box ticked the control functions' traces show: ${all.join(', ')}`,
    );
  });
});
