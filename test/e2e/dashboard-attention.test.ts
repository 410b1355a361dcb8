/**
 * The dashboard's first screen says what is wrong, before any scrolling: a gated deployment that did
 * not go live and why, and the calls the policy refuses, each a line at the top linking to the section
 * that tells the rest; and, with nothing wrong, that nothing is. Headless Chromium (test/support/
 * chromium.ts) on the local mesh with the example app; the deployment fails fast (a deploy freeze fails
 * its pre-traffic check) and the refused calls are real Invokes through the AWS SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Page } from 'playwright-core';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { type HeadlessBrowser, launchHeadless } from '../support/chromium';
import { clientConfig, localExampleAssemblies } from '../support/example-assembly';
import { eventually, runMesh } from '../support/mesh-cli';

const { assemblies, skip } = localExampleAssemblies();
/** A laptop's first screen: what the page says here, it says before any scrolling. */
/** The example shop's checkout: frontend -> orders -> inventory, payments, notifications. */
const CHECKOUT = JSON.stringify({ action: 'checkout' });
const FIRST_SCREEN = { width: 1280, height: 720 };

describe('the dashboard says what is wrong on its first screen', { skip }, () => {
  let mesh: LocalMesh;
  let headless: HeadlessBrowser;
  let page: Page;
  let lambda: LambdaClient;

  before(async () => {
    mesh = await startLocalMesh({ assemblies: [assemblies!.release1], port: 0, quiet: true });
    lambda = new LambdaClient(clientConfig(mesh.url));
    headless = await launchHeadless(FIRST_SCREEN);
    page = await headless.browser.newPage();
  });

  after(async () => {
    await headless?.close();
    lambda?.destroy();
    await mesh?.stop();
  });

  /** The lines of the list at the top, and whether each is within the first screen. */
  const attention = () =>
    page.$$eval('#attention li', (items) =>
      items.map((li) => ({
        text: (li.textContent ?? '').replace(/\s+/g, ' ').trim(),
        level: li.getAttribute('data-level'),
        link: li.querySelector('a')?.getAttribute('href') ?? null,
        bottom: li.getBoundingClientRect().bottom,
      })),
    );

  it('with nothing wrong, says so', async () => {
    const r = await lambda.send(
      new InvokeCommand({ FunctionName: 'shop-frontend', Qualifier: 'live', Payload: CHECKOUT }),
    );
    assert.equal(r.FunctionError, undefined);
    await page.goto(`${mesh.url}/_mesh/`);
    await page.waitForSelector('#attention li[data-level="ok"]', { timeout: 20_000 });
    const [line] = await attention();
    assert.match(line!.text, /^Nothing needs a look: every call in the last 60s succeeded/);
  });

  it('names a deployment that did not go live, and calls the policy refuses, at the top', async () => {
    const deny = await runMesh(mesh.url, ['policy', 'deny', 'orders', 'inventory', '--reason', 'incident-42']);
    assert.equal(deny.code, 0, deny.stderr);
    const freeze = await runMesh(mesh.url, ['policy', 'deny', 'mesh-deploy-check', 'payments', '--reason', 'freeze']);
    assert.equal(freeze.code, 0, freeze.stderr);
    const [gated] = (await mesh.apply(assemblies!.release2)).deployments;
    assert.ok(gated);
    const codeDeploy = new CodeDeployClient(clientConfig(mesh.url));
    try {
      const status = async () =>
        (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: gated.deploymentId }))).deploymentInfo?.status;
      await eventually('the deployment fails its pre-traffic check', async () => (await status()) === 'Failed');
    } finally {
      codeDeploy.destroy();
    }
    let lines = await attention();
    await eventually(
      () => `the deployment and the refused edge at the top; it shows: ${lines.map((l) => l.text).join(' | ')}`,
      async () => {
        // Checkouts meet the deny once orders' policy cache has it: its calls to inventory are refused.
        await lambda.send(new InvokeCommand({ FunctionName: 'shop-frontend', Qualifier: 'live', Payload: CHECKOUT }));
        lines = await attention();
        return (
          lines.some((l) => l.text.startsWith('orders → inventory')) &&
          lines.some((l) => l.text.startsWith('payments:'))
        );
      },
      60_000,
    );
    const deployment = lines.find((l) => l.text.startsWith('payments:'))!;
    assert.equal(deployment.link, '#deployments-wrap');
    assert.match(
      deployment.text,
      new RegExp(
        `^payments: deployment ${gated.deploymentId} v1 → v2 Failed \\(HOOK_EXECUTION_FAILURE\\), rolled back to v1 at `,
      ),
    );
    const refused = lines.find((l) => l.text.startsWith('orders → inventory'))!;
    assert.equal(refused.link, '#policy-wrap');
    assert.match(refused.text, /^orders → inventory: \d+ calls? refused: DENIED by operator \(incident-42\)$/);
    assert.equal(lines.filter((l) => l.level === 'ok').length, 0, 'no "nothing needs a look" beside them');
    for (const l of lines) assert.ok(l.bottom <= FIRST_SCREEN.height, `"${l.text}" shows without scrolling`);
  });
});
