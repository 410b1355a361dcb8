/**
 * The local Secrets Manager rotates identities on their schedule, over days of a simulated clock
 * (test/support/rotation-world.ts): the rotation schedules the mesh's template declares (read from the
 * identity fixture app's synthesized template) are turned on as a deployment turns them on (RotateSecret,
 * RotateImmediately false), and from then on only the endpoint's own schedule rotates anything, invoking
 * the real issuer as the rotation function. Sandboxes hold identities as the runtime does and call each
 * other every hour, signing and verifying with real crypto. What must hold:
 * - three certificate lifetimes on, no call was refused; every identity rotated each time its schedule
 *   fell due, and DescribeSecret's LastRotatedDate and NextRotationDate say when;
 * - with the schedules not run (what the local mesh did before), the same mesh refuses its calls as
 *   `certificate-expired` once a lifetime has passed;
 * - a scheduled rotation that fails leaves the labels as they were and runs again, under its own token,
 *   at the next scheduled time; CancelRotateSecret stops a schedule.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RotationRulesType } from '@aws-sdk/client-secrets-manager';
import { LEAF_LIFETIME_MS } from '../../functions/control/ca-issuer';
import { parseIdentitySecret, REFUSAL } from '../../functions/mesh/identity';
import { identityFixtureAssemblies } from '../support/example-assembly';
import { HOUR_MS, RotationWorld } from '../support/rotation-world';

const T0 = Date.parse('2031-03-03T00:00:00Z');
const L = LEAF_LIFETIME_MS;

interface Schedules {
  readonly ca: RotationRulesType;
  /** service -> the rules of its identity secret's schedule */
  readonly identities: Map<string, RotationRulesType>;
}

/** The rotation schedules a synthesized template declares: the mesh CA's and each service identity's. */
function templateSchedules(assembly: string): Schedules {
  const manifest = JSON.parse(readFileSync(join(assembly, 'manifest.json'), 'utf8'));
  const artifacts = Object.values(
    manifest.artifacts as Record<string, { type: string; properties?: { templateFile: string } }>,
  );
  const stack = artifacts.find((a) => a.type === 'aws:cloudformation:stack')!;
  const resources = JSON.parse(readFileSync(join(assembly, stack.properties!.templateFile), 'utf8'))
    .Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  let ca: RotationRulesType | undefined;
  const identities = new Map<string, RotationRulesType>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::SecretsManager::RotationSchedule') continue;
    const secret = resources[(r.Properties.SecretId as { Ref: string }).Ref]!;
    const name = String(secret.Properties.Name);
    const rules = r.Properties.RotationRules as RotationRulesType;
    if (name.endsWith('/mesh-ca')) ca = rules;
    else identities.set(name.slice(name.indexOf('/identity/') + '/identity/'.length), rules);
  }
  assert.ok(ca && identities.size > 0, 'the template declares the CA and identity schedules');
  return { ca, identities };
}

/** A world of the template's services, deployed at T0, every schedule of the template turned on. */
async function scheduledWorld(schedules: Schedules, runSchedules = true): Promise<RotationWorld> {
  const w = new RotationWorld([...schedules.identities.keys()], T0, { runSchedules });
  await w.deploy();
  await w.schedule(w.caName, schedules.ca);
  for (const [service, rules] of schedules.identities) await w.schedule(w.secretOf(service), rules);
  return w;
}

/** A long-lived sandbox per service, sandboxes that live six hours started every seven, traffic hourly. */
function liveTraffic(w: RotationWorld, until: number): void {
  w.services.forEach((s, i) => {
    w.at(T0, () => w.spawn(s, `${s}#warm`).then(() => undefined));
    for (let t = T0 + (3 + i) * HOUR_MS; t < until; t += 7 * HOUR_MS) {
      w.at(t, async () => {
        const sb = await w.spawn(s, `${s}#cold@${w.hours}h`);
        w.at(t + 6 * HOUR_MS, () => {
          sb.active = false;
        });
      });
    }
  });
  for (let t = T0 + HOUR_MS; t <= until; t += HOUR_MS) w.at(t, () => w.traffic());
}

/** Hours after T0 at which `secret` finished a rotation. */
const finished = (w: RotationWorld, secret: string) =>
  w.issuerSteps.filter((s) => s.secret === secret && s.step === 'finishSecret' && !s.error).map((s) => s.atH);

/** The hours of a `rate(<n> hours)` schedule. */
const everyHours = (rules: RotationRulesType) =>
  Number(/^rate\((\d+) hours\)$/.exec(rules.ScheduleExpression ?? '')?.[1]);

describe('scheduled rotation on the local endpoint, on a simulated clock (real issuer, real crypto)', () => {
  let schedules: Schedules;
  const worlds: RotationWorld[] = [];
  before(() => {
    schedules = templateSchedules(identityFixtureAssemblies().release1);
  });
  after(async () => {
    for (const w of worlds) await w.close();
  });

  it('rotates every identity when its schedule falls due: three lifetimes on, no call refused', async () => {
    const END = T0 + 3 * L + HOUR_MS;
    const w = await scheduledWorld(schedules);
    worlds.push(w);
    liveTraffic(w, END);
    await w.runUntil(END);

    assert.deepEqual(w.failures.slice(0, 5), [], `${w.failures.length} of ${w.calls} calls refused`);
    assert.ok(w.calls > 300, `only ${w.calls} calls`);
    assert.deepEqual(w.endpointLog, []);
    for (const [service, rules] of schedules.identities) {
      const every = everyHours(rules);
      assert.ok(every > 0 && every * HOUR_MS < L, `${service} rotates within a lifetime: ${rules.ScheduleExpression}`);
      const due = Array.from({ length: Math.floor((END - T0) / (every * HOUR_MS)) }, (_, i) => (i + 1) * every);
      assert.deepEqual(finished(w, w.secretOf(service)), due, `${service} rotated each time it fell due`);
      const d = await w.describe(w.secretOf(service));
      assert.equal(d.LastRotatedDate?.getTime(), T0 + due.at(-1)! * HOUR_MS);
      assert.equal(d.NextRotationDate?.getTime(), T0 + (due.at(-1)! + every) * HOUR_MS);
      const current = parseIdentitySecret(w.store.get(w.secretOf(service)).secretString!);
      assert.ok(Date.parse(current.notAfter) > END, `${service}'s current certificate outlives the run`);
    }
    assert.deepEqual(finished(w, w.caName), [], 'the CA waits for its own schedule');
    const ca = await w.describe(w.caName);
    assert.equal(ca.LastRotatedDate, undefined);
    assert.ok((ca.NextRotationDate?.getTime() ?? 0) > END);
    console.log(
      `scheduled rotation over ${Math.round(w.hours)} simulated hours: ${w.calls} calls, 0 refused, ` +
        `${w.issuerSteps.filter((s) => s.step === 'finishSecret').length} rotations`,
    );
  });

  it('without the schedules run, the same mesh refuses its calls as certificate-expired past a lifetime', async () => {
    const END = T0 + L + 2 * HOUR_MS;
    const w = await scheduledWorld(schedules, false);
    worlds.push(w);
    liveTraffic(w, END);
    await w.runUntil(END);

    assert.ok(w.failures.length > 0, 'calls are refused once the certificates expired');
    assert.ok(w.failures.every((f) => f.atH >= L / HOUR_MS && f.reason === REFUSAL.certificateExpired));
    assert.deepEqual(
      w.issuerSteps.map((s) => s.step),
      Array(1 + schedules.identities.size).fill('testSecret'),
      'only the set-up checks ran',
    );
  });

  it('a failed scheduled rotation leaves its labels and runs again an hour later, under its own token', async () => {
    const w = await scheduledWorld(schedules);
    worlds.push(w);
    const [failing, other] = [...schedules.identities.keys()].map((s) => w.secretOf(s));
    const every = everyHours(schedules.identities.get([...schedules.identities.keys()][0]!)!);
    const first = T0 + every * HOUR_MS;
    w.failNext = { secret: failing!, step: 'createSecret' };
    await w.runUntil(first + 60_000);

    const failed = w.issuerSteps.filter((s) => s.secret === failing);
    assert.deepEqual(
      failed.map((s) => [s.step, s.atH, s.error]),
      [
        ['testSecret', 0, undefined],
        ['createSecret', every, 'failed on purpose'],
      ],
    );
    const token = failed.at(-1)!.token;
    const d = await w.describe(failing!);
    assert.deepEqual(d.VersionIdsToStages?.[token], ['AWSPENDING'], 'the failure left AWSPENDING on the new version');
    assert.equal(d.NextRotationDate?.getTime(), first, 'in the past while the rotation is unfinished');
    assert.equal(d.LastRotatedDate, undefined);
    const retry = new Date(first + HOUR_MS).toISOString();
    assert.ok(
      w.endpointLog.some((l) => l.includes(`scheduled rotation of ${failing} failed`) && l.includes(retry)),
      w.endpointLog.join('\n'),
    );

    await w.cancelSchedule(other!);
    await w.runUntil(first + HOUR_MS + 60_000);
    const retried = w.issuerSteps.filter((s) => s.secret === failing && s.atH === every + 1);
    assert.deepEqual(
      retried.map((s) => [s.step, s.token, s.error]),
      ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((step) => [step, token, undefined]),
      'the unfinished rotation ran again, under its own token',
    );
    const now = await w.describe(failing!);
    assert.equal(now.LastRotatedDate?.getTime(), first + HOUR_MS);
    assert.equal(now.NextRotationDate?.getTime(), first + HOUR_MS + every * HOUR_MS);
    assert.deepEqual(finished(w, other!), [every], 'a cancelled schedule rotates no more');
    assert.equal((await w.describe(other!)).NextRotationDate, undefined);
  });
});
