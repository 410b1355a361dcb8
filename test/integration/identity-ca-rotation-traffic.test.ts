/**
 * CA rotation under traffic, over days of a simulated clock (test/support/rotation-world.ts): four
 * services, each with a long-lived sandbox, cold starts every few hours, sandboxes that read their
 * secret just before the new CA joined, and sandboxes that sat idle across a phase. Every identity
 * secret rotates on its schedule through the real issuer; the CA rotates (the new CA joins every
 * bundle, signs after two leaf lifetimes) and rotates again (the oldest is dropped). Every call between
 * every pair of services is signed and verified with real crypto. What must hold:
 * - no call is refused in any phase, including by and to a sandbox idle since before the new CA joined;
 * - once the old CA has left the bundles, a certificate it signs is refused by every sandbox, one idle
 *   since before the drop too;
 * - a second CA rotation before the previous CA's last certificate has expired is refused (it would drop
 *   a CA that still signs), and runs once that is safe;
 * - a CA rotation left unfinished and resumed days later starts over instead of signing at once.
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { type Authority, issueIdentity, LEAF_LIFETIME_MS } from '../../functions/control/ca-issuer';
import { type Identity, REFUSAL } from '../../functions/mesh/identity';
import { identityOf } from '../support/identity-fixture';
import { HOUR_MS, RotationWorld, type Sandbox } from '../support/rotation-world';

const SERVICES = ['frontend', 'orders', 'payments', 'inventory'];
const T0 = Date.parse('2031-01-06T00:00:00Z');
const L = LEAF_LIFETIME_MS;

/**
 * The world every test starts from: deployed at T0, each identity rotating every L/2 on its own minute,
 * a long-lived sandbox per service from the start, cold starts throughout, traffic every `trafficMs`.
 */
async function world(until: number, trafficMs = HOUR_MS): Promise<RotationWorld> {
  const w = new RotationWorld(SERVICES, T0);
  await w.deploy();
  for (const [i, s] of SERVICES.entries()) w.every(w.secretOf(s), T0 + L / 2 + i * 17 * 60_000, L / 2, until);
  for (const s of SERVICES) w.at(T0, () => w.spawn(s, `${s}#warm`).then(() => undefined));
  coldStarts(w, until);
  for (let t = T0 + trafficMs; t <= until; t += trafficMs) w.at(t, () => w.traffic());
  return w;
}

/** Sandboxes that live a few hours each, started throughout (Lambda recycles environments). */
function coldStarts(w: RotationWorld, until: number): void {
  SERVICES.forEach((s, i) => {
    for (let t = T0 + (3 + i) * HOUR_MS; t < until; t += 7 * HOUR_MS) {
      w.at(t, async () => {
        const sb = await w.spawn(s, `${s}#cold@${w.hours}h`);
        w.at(t + 6 * HOUR_MS, () => {
          sb.active = false;
        });
      });
    }
  });
}

/** A sandbox that reads its secret at `at` and then sits idle (no invocation) until `thaw`. */
function idle(w: RotationWorld, service: string, label: string, at: number, thaw: number): { sandbox?: Sandbox } {
  const out: { sandbox?: Sandbox } = {};
  w.at(at, async () => {
    out.sandbox = await w.spawn(service, label);
    out.sandbox.active = false;
  });
  w.at(thaw, () => {
    out.sandbox!.active = true;
  });
  return out;
}

const subjectOf = (pem: string) => new X509Certificate(pem).subject;
const leafIssuer = (id: Identity) =>
  new X509Certificate(id.tlsMaterial().cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!).issuer;

/** A caller certificate for "orders" that `authority` signs now (what whoever holds that CA's key can make). */
async function signedBy(w: RotationWorld, authority: Authority): Promise<Identity> {
  const secret = await issueIdentity({
    mesh: 'shop',
    service: 'orders',
    ca: { v: 1, authorities: [authority] },
    now: w.clock.now,
  });
  return identityOf(secret, w.clock);
}

/** What `sandbox` answers a call from `caller` (an identity outside the world's sandboxes). */
async function verdict(sandbox: Sandbox, caller: Identity): Promise<string> {
  const loaded = await sandbox.loader.get();
  assert.ok('identity' in loaded);
  const payload = `{"probe":"${sandbox.label}"}`;
  const token = caller.sign({ target: sandbox.service, payload });
  const r = loaded.identity.verify({ token, source: 'orders', payload });
  return r.ok ? 'accepted' : r.reason;
}

describe('CA rotation under traffic, on a simulated clock (real issuer, real crypto)', () => {
  const worlds: RotationWorld[] = [];
  after(async () => {
    for (const w of worlds) await w.close();
  });

  it('refuses no call in any phase, and refuses the dropped CA everywhere once it left the bundles', async () => {
    const R1 = T0 + 30 * HOUR_MS; // the new CA joins
    const R2 = R1 + 4 * L; // the next CA rotation drops the first CA
    const END = R2 + 2 * L + 2 * HOUR_MS;
    const w = await world(END, 2 * HOUR_MS);
    worlds.push(w);
    const first = w.ca().authorities[0]!;
    // Read their bundle a minute before the new CA joined: one keeps serving, two sit idle until the new
    // CA has signed callers' certificates for a while (their own certificates expired meanwhile).
    for (const s of SERVICES) w.at(R1 - 60_000, () => w.spawn(s, `${s}#pre-join`).then(() => undefined));
    const idleCaller = idle(w, 'orders', 'orders#idle-from-pre-join', R1 - 60_000, R1 + 3 * L - 2 * HOUR_MS);
    const idleCallee = idle(w, 'payments', 'payments#idle-from-pre-join', R1 - 60_000, R1 + 3 * L - 2 * HOUR_MS);
    // Read a bundle that still held the first CA just before it was dropped, then sat idle past its end.
    const idleDrop = idle(w, 'inventory', 'inventory#idle-from-pre-drop', R2 - 60_000, END);
    w.at(R1, () => w.rotate(w.caName).then((e) => assert.equal(e, undefined)));
    w.at(R2, () => w.rotate(w.caName).then((e) => assert.equal(e, undefined)));

    let second: Authority | undefined;
    w.at(R1 + 3 * L + HOUR_MS, async () => {
      // The new CA signs every certificate in use by now; every bundle still holds both CAs.
      second = w.ca().authorities[0]!;
      for (const sb of w.sandboxes.filter((s) => s.active)) {
        const loaded = await sb.loader.get();
        assert.ok('identity' in loaded);
        assert.equal(leafIssuer(loaded.identity), subjectOf(second.certificate), `${sb.label} signs with the new CA`);
        assert.equal(loaded.identity.trust.pems.length, 2, `${sb.label} trusts both CAs`);
      }
      const old = await signedBy(w, first);
      for (const sb of w.sandboxes.filter((s) => s.active)) assert.equal(await verdict(sb, old), 'accepted');
    });
    await w.runUntil(END);

    assert.deepEqual(w.rotationErrors, []);
    assert.deepEqual(w.failures.slice(0, 5), [], `${w.failures.length} of ${w.calls} calls refused`);
    assert.ok(w.calls > 5_000, `only ${w.calls} calls`);
    assert.ok(second && idleCaller.sandbox && idleCallee.sandbox && idleDrop.sandbox);

    // The first CA has left every bundle: whatever it signs is refused, by the sandbox idle since before
    // the drop too (its first call re-read the secret its expired certificate came from).
    const dropped = await signedBy(w, first);
    const active = w.sandboxes.filter((s) => s.active);
    assert.ok(active.includes(idleDrop.sandbox));
    for (const sb of active) {
      const loaded = await sb.loader.get();
      assert.ok('identity' in loaded);
      assert.ok(!loaded.identity.trust.pems.map(subjectOf).includes(subjectOf(first.certificate)), sb.label);
      assert.equal(await verdict(sb, dropped), REFUSAL.untrustedCertificate, sb.label);
    }
    console.log(
      `CA rotation over ${Math.round(w.hours)} simulated hours: ${w.calls} calls, 0 refused, ${w.sandboxes.length} sandboxes`,
    );
  });

  it('refuses a CA rotation that would drop a CA still in use, and runs it once that is safe', async () => {
    const R1 = T0 + 30 * HOUR_MS;
    const safe = R1 + 3 * L; // the first CA signs until R1 + 2L; its last certificates expire a lifetime later
    const END = safe + L + 2 * HOUR_MS;
    const w = await world(END, 3 * HOUR_MS);
    worlds.push(w);
    const early: { error?: string; before?: string; after?: string } = {};
    w.at(R1, () => w.rotate(w.caName).then((e) => assert.equal(e, undefined)));
    w.at(R1 + L, async () => {
      // An operator's `rotate-secret` a day later, while the first CA still signs every certificate.
      early.before = w.store.get(w.caName).secretString!;
      early.error = await w.rotate(w.caName);
      early.after = w.store.get(w.caName).secretString!;
    });
    // Secrets Manager attempts the unfinished rotation again (here: an hour after it became safe).
    w.at(safe + HOUR_MS, () => w.rotate(w.caName).then(() => undefined));
    await w.runUntil(END);

    assert.deepEqual(w.failures.slice(0, 5), [], `${w.failures.length} of ${w.calls} calls refused`);
    assert.match(
      early.error ?? '',
      /rotating it again before \S+ would drop the CA before it.*rotate the CA after that time/,
    );
    assert.equal(early.after, early.before, 'the refused rotation left the CA secret as it was');
    assert.deepEqual(
      w.rotationErrors.map((e) => e.atH),
      [(R1 + L - T0) / HOUR_MS],
      'the later attempt went through',
    );
    const kept = w.ca().authorities.map((a) => subjectOf(a.certificate));
    assert.equal(kept[1], subjectOf(JSON.parse(early.before!).authorities[0].certificate), 'the second CA is kept');
  });

  it('starts over a CA rotation resumed days after it stopped, instead of signing with it at once', async () => {
    const R1 = T0 + 30 * HOUR_MS;
    const resumed = R1 + 3 * L;
    const END = resumed + 3 * L;
    const w = await world(END, 3 * HOUR_MS);
    worlds.push(w);
    // createSecret made the new CA (pending); the next step's invocation failed, so it never joined.
    w.at(R1, () => w.rotate(w.caName, 'createSecret').then((e) => assert.equal(e, 'stopped after createSecret')));
    const attempts: (string | undefined)[] = [];
    w.at(resumed, async () => void attempts.push(await w.rotate(w.caName)));
    w.at(resumed + HOUR_MS, async () => void attempts.push(await w.rotate(w.caName)));
    let newest: Authority | undefined;
    w.at(resumed + HOUR_MS + 1, () => {
      newest = w.ca().authorities[0];
    });
    await w.runUntil(END);

    assert.deepEqual(w.failures.slice(0, 5), [], `${w.failures.length} of ${w.calls} calls refused`);
    assert.match(attempts[0] ?? '', /stale \(made at \S+, half a certificate lifetime or more ago/);
    assert.equal(attempts[1], undefined, 'the next attempt makes a new CA');
    assert.equal(Date.parse(newest!.createdAt), resumed + HOUR_MS, 'made then: it signs two lifetimes later');
    for (const sb of w.sandboxes.filter((s) => s.active)) {
      const loaded = await sb.loader.get();
      assert.ok('identity' in loaded);
      assert.equal(leafIssuer(loaded.identity), subjectOf(newest!.certificate), `${sb.label} signs with the new CA`);
    }
  });
});
