/**
 * Identity issuance at deploy, on the local mesh, with Secrets Manager rotations asynchronous and held
 * back until the test releases them (AWS promises nothing about when a rotation runs):
 * - a first deployment from an empty local mesh: the very first checkout after the mesh reports ready
 *   succeeds, every hop's identity verified, while no rotation has run;
 * - the old wiring (identities issued by RotateImmediatelyOnUpdate rotations, nothing waiting for them)
 *   fails that same first checkout; its functions refuse calls cleanly and pick their identities up
 *   without a redeploy once the rotations ran;
 * - a stack update that adds a service issues that identity the same way; one that changes nothing
 *   issues nothing;
 * - a rotation that fails once leaves the current identity working and recovers on the next attempt;
 * - a deploy after a delete works (the secrets went without a recovery window), where a secret left in
 *   its recovery window would have failed it.
 */

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { parseIdentitySecret } from '../../functions/mesh/identity';
import { IDENTITY_RETRY_MS } from '../../functions/mesh/identity/identity-loader';
import { startLocalMesh } from '../../local/mesh-local';
import { IDENTITY, LIVE_ALIAS } from '../../shared/names';
import { clientConfig, exampleAssemblies, identityFixtureAssemblies } from '../support/example-assembly';

const example = exampleAssemblies();

/** A local mesh whose rotations wait for `release()`, with every worker log line kept. */
async function heldMesh(assemblies: string[]) {
  const held: (() => Promise<void>)[] = [];
  const logs: { fn: string; line: string }[] = [];
  const mesh = await startLocalMesh({
    assemblies,
    port: 0,
    quiet: true,
    rotationScheduler: (run) => held.push(run),
    onLog: (fn, _v, line) => logs.push({ fn, line }),
  });
  const lambda = new LambdaClient(clientConfig(mesh.url));
  const sm = new SecretsManagerClient(clientConfig(mesh.url));
  return {
    mesh,
    lambda,
    sm,
    held,
    logs,
    /** Runs the held rotations, in the order they were started. */
    release: async () => {
      while (held.length > 0) await held.shift()!();
    },
    /** The access-log lines callees wrote (reporter destination). */
    served: () =>
      logs
        .filter((l) => l.line.includes('"type":"mesh-access"') && l.line.includes('"reporter":"destination"'))
        .map((l) => JSON.parse(l.line.slice(l.line.indexOf('{'))) as Record<string, unknown>),
    invoke: async (fn: string, payload: unknown) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: fn, Qualifier: LIVE_ALIAS, Payload: Buffer.from(JSON.stringify(payload)) }),
      );
      return { error: out.FunctionError, body: Buffer.from(out.Payload ?? new Uint8Array()).toString() };
    },
    stop: async () => {
      lambda.destroy();
      sm.destroy();
      await mesh.stop();
    },
  };
}
type Held = Awaited<ReturnType<typeof heldMesh>>;

/**
 * The same assembly wired the old way: no issuance resources, each identity issued by its rotation
 * schedule's RotateImmediatelyOnUpdate, the identity schedules after the CA's, nothing else waiting.
 */
function oldWiring(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), 'old-wiring-'));
  cpSync(dir, out, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  for (const a of Object.values(manifest.artifacts) as { type: string; properties?: { templateFile?: string } }[]) {
    if (a.type !== 'aws:cloudformation:stack') continue;
    const file = join(out, a.properties!.templateFile!);
    const t = JSON.parse(readFileSync(file, 'utf8'));
    const res = t.Resources as Record<
      string,
      {
        Type: string;
        Properties: { Name?: unknown; SecretId?: { Ref?: string }; [k: string]: unknown };
        DependsOn?: string[];
      }
    >;
    const issuing = Object.keys(res).filter((id) =>
      Object.values(IDENTITY.resourceType).includes(res[id]!.Type as never),
    );
    for (const id of issuing) delete res[id];
    const caSecret = Object.keys(res).find((id) => String(res[id]!.Properties?.Name).endsWith('/mesh-ca'))!;
    const schedules = Object.keys(res).filter((id) => res[id]!.Type === 'AWS::SecretsManager::RotationSchedule');
    const caSchedule = schedules.find((id) => res[id]!.Properties.SecretId?.Ref === caSecret)!;
    for (const [id, r] of Object.entries(res)) {
      if (r.DependsOn) r.DependsOn = r.DependsOn.filter((d) => !issuing.includes(d));
      if (r.Type !== 'AWS::SecretsManager::RotationSchedule') continue;
      r.Properties.RotateImmediatelyOnUpdate = true;
      if (id !== caSchedule) r.DependsOn = [...(r.DependsOn ?? []), caSchedule];
    }
    writeFileSync(file, JSON.stringify(t));
  }
  return out;
}

const checkout = { action: 'checkout', sku: 'sku-1', quantity: 1 };

describe('identity bootstrap on the local mesh (example app)', { skip: example ? false : 'needs infra/app.ts' }, () => {
  let m: Held | undefined;
  const dirs: string[] = [];
  after(async () => {
    await m?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the very first checkout after the mesh reports ready succeeds, identities verified, no rotation run', async () => {
    m = await heldMesh([example!.release1, example!.release2]);
    const first = await m.invoke('shop-frontend', checkout);
    assert.equal(first.error, undefined, first.body);
    assert.match(first.body, /"charged":\d+/);
    // Every hop was served by a callee that verified its caller's token (identity is on everywhere).
    const served = m.served().map((l) => `${l.source}->${l.destination} ${l.outcome}`);
    for (const hop of ['frontend->orders', 'orders->inventory', 'orders->payments']) {
      assert.ok(served.includes(`${hop} success`), `${hop} served: ${served.join(', ')}`);
    }
    assert.ok(m.held.length > 0, 'the rotation schedules started their checks, and none has run yet');
    const deploys = m.mesh.deployments;
    assert.equal(
      deploys[0]!.customResources.filter((c) => c.endsWith(' Create')).length,
      7,
      "CA + 5 services' identities + the pre-traffic check's",
    );
    assert.deepEqual(deploys[1]!.customResources, [], 'release 2 changed no identity resource: nothing issued');
    await m.release(); // the schedules' set-up checks pass on the issued secrets
    assert.equal((await m.invoke('shop-frontend', checkout)).error, undefined);
    await m.stop();
    m = undefined;
  });

  it('the old wiring fails the same first checkout; its functions pick the identity up later without a redeploy', async () => {
    const old = oldWiring(example!.release1);
    dirs.push(old);
    m = await heldMesh([old]);
    const first = await m.invoke('shop-frontend', checkout);
    assert.equal(first.error, 'Unhandled', 'the race: traffic before any identity was issued');
    // frontend's own call was refused before sending; the error left its handler as a dependency's.
    assert.match(first.body, /MeshDependencyIdentityUnavailableError/);
    assert.match(first.body, /frontend has no identity yet/);
    const warned = m.logs.find((l) => l.fn === 'shop-frontend' && l.line.includes('"level":"WARN"'));
    assert.match(warned!.line, /identity_unavailable|no identity yet/);
    assert.ok(m.logs.some((l) => l.fn === 'shop-frontend' && l.line.includes('"identity_unavailable_total":1')));

    await m.release(); // the rotations finally run: CA first, then every identity
    await new Promise((r) => setTimeout(r, IDENTITY_RETRY_MS + 100));
    const later = await m.invoke('shop-frontend', checkout);
    assert.equal(later.error, undefined, later.body);
    await m.stop();
    m = undefined;
  });
});

describe('identity bootstrap on the local mesh (stack updates, failed rotation, delete)', () => {
  const { release1, release2 } = identityFixtureAssemblies();
  let m: Held;
  const call = (target: string) => m.invoke('idm-front', { target });
  const secretOf = (service: string) =>
    m.sm.send(new GetSecretValueCommand({ SecretId: IDENTITY.secretName('idm', service) }));
  const issuer = () => m.mesh.registry.functionNames().find((n) => n.includes('Issuer'))!;

  before(async () => {
    m = await heldMesh([release1]);
  });
  after(async () => m?.stop());

  it('a stack update that adds a service issues its identity at deploy; one that changes nothing issues nothing', async () => {
    assert.match((await call('back')).body, /"ok":true,"value":\{"service":"back"\}/);
    const report = await m.mesh.apply(release2);
    assert.deepEqual(
      report.customResources.map((c) => c.replace(/[0-9A-F]{8} /, ' ')),
      ['MeshIdentityIssuedlate Create'],
    );
    assert.match((await call('late')).body, /"ok":true,"value":\{"service":"late"\}/, 'its first call is served');
    const before = await Promise.all(['front', 'back', 'late'].map(secretOf));
    const again = await m.mesh.apply(release2);
    assert.deepEqual(again.customResources, []);
    assert.deepEqual(again.rotations, []);
    const after = await Promise.all(['front', 'back', 'late'].map(secretOf));
    assert.deepEqual(
      after.map((s) => s.VersionId),
      before.map((s) => s.VersionId),
    );
    await m.release();
  });

  it('a rotation that fails once leaves the current identity working, raises the issuer’s error, and recovers', async () => {
    const ca = IDENTITY.caSecretName('idm');
    const caBefore = await m.sm.send(new GetSecretValueCommand({ SecretId: ca }));
    const backBefore = await secretOf('back');
    // The CA secret briefly holds no CA (an operator's mistake): back's next rotation cannot issue.
    m.mesh.endpoint.secrets.put(ca, { secretString: JSON.stringify({ kind: 'ca', mesh: 'idm' }) });
    const failed = await m.sm.send(new RotateSecretCommand({ SecretId: IDENTITY.secretName('idm', 'back') }));
    await m.release();
    const failure = m.logs.find((l) => l.fn === issuer() && l.line.includes('"msg":"mesh identity rotation failed"'));
    assert.ok(failure, 'the issuer logged the failure (its Errors metric drives the alarm)');
    assert.match(failure!.line, /"step":"createSecret"/);
    assert.ok(m.mesh.recentInvocations().some((r) => r.functionName === issuer() && r.outcome === 'error'));
    assert.equal((await secretOf('back')).VersionId, backBefore.VersionId, 'the current identity is untouched');
    assert.match((await call('back')).body, /"ok":true/, 'and still serves');

    // The CA comes back; the next rotation attempt is refused and retries the unfinished one, which completes.
    await m.sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: ca,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: caBefore.VersionId,
        RemoveFromVersionId: (await m.sm.send(new GetSecretValueCommand({ SecretId: ca }))).VersionId,
      }),
    );
    await assert.rejects(m.sm.send(new RotateSecretCommand({ SecretId: IDENTITY.secretName('idm', 'back') })), {
      message: /A previous rotation isn't complete/,
    });
    await m.release();
    const backAfter = await secretOf('back');
    assert.equal(backAfter.VersionId, failed.VersionId, 'the retried rotation finished');
    assert.notEqual(
      parseIdentitySecret(backAfter.SecretString!).certificate,
      parseIdentitySecret(backBefore.SecretString!).certificate,
    );
    await new Promise((r) => setTimeout(r, IDENTITY_RETRY_MS));
    assert.match((await call('back')).body, /"ok":true/);
  });

  it('a deploy after a delete works: the secrets went without a recovery window', async () => {
    const deleted = await m.mesh.deleteStack();
    assert.ok(
      deleted.some((k) => k.endsWith('IdentityBootstrap/MeshIdentityCaSecret0B0C5D2E') || k.includes('CaSecret')),
    );
    for (const s of ['front', 'back', 'late'])
      assert.equal(m.mesh.endpoint.secrets.has(IDENTITY.secretName('idm', s)), false);
    const report = await m.mesh.apply(release1);
    assert.equal(
      report.customResources.filter((c) => c.endsWith(' Create')).length,
      3,
      'CA + front + back issued again',
    );
    assert.match((await call('back')).body, /"ok":true,"value":\{"service":"back"\}/);

    // Had a secret been left in its recovery window (a plain DeleteSecret), the same redeploy would fail.
    await m.mesh.deleteStack();
    m.mesh.endpoint.secrets.create({ name: IDENTITY.secretName('idm', 'back'), secretString: '{}' });
    m.mesh.endpoint.secrets.delete(IDENTITY.secretName('idm', 'back'), { recoveryWindowDays: 7 });
    await assert.rejects(m.mesh.apply(release1), /idm\/identity\/back .*scheduled for deletion/);
  });
});
