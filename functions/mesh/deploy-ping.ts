/**
 * The answer to a mesh ping (shared/deploy-check.ts), run by the wrapper instead of the handler once
 * the caller passed the identity and policy checks. A gated deployment's pre-traffic hook pings a new
 * version before any traffic reaches it, and the version checks, with its own role, layers and
 * environment, what its first real call would need:
 * - `identity`: its identity loads, and a token it signs verifies against its own trust bundle;
 * - `policy`: its policy table answers, and admits the caller (with no table, the snapshot stands in);
 * - `call <target>`: each target it declared (an `allow#<this service>` item in the snapshot) answers
 *   a one-hop ping through the mesh: signed, authorized by the target, invoked through its `live` alias.
 * Targets reached over HTTP are listed as not checked: a ping is a Lambda event, not an HTTP request.
 */
import {
  type PingAnswer,
  type PingCheck,
  type PingRequest,
  pingEvent,
  readPingAnswer,
} from '../../shared/deploy-check';
import { ENV, SORT_KEY } from '../../shared/names';
import type { MeshRuntime } from './mesh-runtime';
import type { LoadedSnapshot } from './policy/policy-snapshot';

/** What the ping needs of the runtime (a MeshRuntime fits). */
export type PingRuntime = Pick<MeshRuntime, 'config' | 'policy' | 'identity' | 'call'>;

/**
 * Reads the deploy-time snapshot: the wrapper hands in the loader its policy cache uses
 * (policy/policy-snapshot.ts), which this file of the layer then does not bundle a second time.
 */
export type SnapshotLoader = (path: string) => LoadedSnapshot;

export async function answerPing(
  rt: PingRuntime,
  ping: PingRequest,
  version: string,
  source: string,
  loadSnapshot: SnapshotLoader,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<PingAnswer> {
  const self = rt.config.service;
  const checks: PingCheck[] = [await identityCheck(rt, self), await policyCheck(rt, self, source)];
  if (ping.targets) {
    let targets: string[] = [];
    try {
      targets = declaredTargets(self, env[ENV.policySnapshot], loadSnapshot);
    } catch (err) {
      checks.push({ name: 'targets', ok: false, detail: describe(err) });
    }
    for (const target of targets) {
      checks.push(
        rt.config.httpTargets.ok && rt.config.httpTargets.targets.has(target)
          ? { name: `call ${target}`, ok: true, detail: 'not checked: reached over HTTP' }
          : await callCheck(rt, target),
      );
    }
  }
  return { v: 1, service: self, version, ok: checks.every((c) => c.ok), checks };
}

async function identityCheck(rt: PingRuntime, self: string): Promise<PingCheck> {
  try {
    const identity = await rt.identity();
    if (!identity) return { name: 'identity', ok: true, detail: `off (${ENV.identitySecret} unset)` };
    const payload = new TextEncoder().encode('mesh ping');
    const token = identity.sign({ target: self, payload });
    const v = identity.verify({ token, source: self, payload });
    return v.ok
      ? { name: 'identity', ok: true, detail: 'a token it signs verifies against its trust bundle' }
      : { name: 'identity', ok: false, detail: `a token it signs does not verify (${v.reason})` };
  } catch (err) {
    return { name: 'identity', ok: false, detail: describe(err) };
  }
}

/**
 * The version reads its policy table now, and the caller must be admitted by what it read: a new
 * sandbox may have decided on the deploy-time snapshot, and an operator's deny of the check (a deploy
 * freeze: `mesh policy deny mesh-deploy-check <service>`) lives in the table only. The caller learns
 * that the table refuses it, not why.
 */
async function policyCheck(rt: PingRuntime, self: string, source: string): Promise<PingCheck> {
  const table = rt.policy.tableName;
  if (!table) return { name: 'policy', ok: true, detail: 'no policy table: the deploy-time snapshot only' };
  // reread() keeps the last good copy on a failed read: a new copy read from the table is the proof.
  // (refresh() may confirm the copy by the policy version alone, which proves nothing about this partition.)
  const before = rt.policy.peek(self);
  const after = await rt.policy.reread(self);
  if (after === before || after.origin !== 'table') {
    return { name: 'policy', ok: false, detail: `table ${table} cannot be read with this version's role` };
  }
  // The cache's own decision (wrapper.js has it): this file bundles no second copy of the policy rules.
  if (!rt.policy.authorize(after, source).allowed) {
    return { name: 'policy', ok: false, detail: `the policy in table ${table} refuses ${source}` };
  }
  return { name: 'policy', ok: true, detail: `table ${table} read (${after.items.size} items); it admits ${source}` };
}

async function callCheck(rt: PingRuntime, target: string): Promise<PingCheck> {
  const name = `call ${target}`;
  try {
    const answer = readPingAnswer(await rt.call(target, pingEvent(false)));
    if (!answer) return { name, ok: false, detail: `${target} answered, but not as a mesh ping (an older runtime?)` };
    return { name, ok: true, detail: `${target} v${answer.version} answered` };
  } catch (err) {
    return { name, ok: false, detail: describe(err) };
  }
}

/** The services this one declared edges to: `allow#<self>` items in the deploy-time snapshot. */
export function declaredTargets(
  self: string,
  snapshotPath: string | undefined,
  loadSnapshot: SnapshotLoader,
): string[] {
  if (!snapshotPath) return [];
  const sk = SORT_KEY.allow(self);
  const out: string[] = [];
  // Every service's items are read, so every seal of the snapshot is compared before traffic moves.
  const snapshot = loadSnapshot(snapshotPath);
  for (const service of snapshot.services) {
    if (snapshot.itemsOf(service)?.some((i) => (i as { sk?: unknown }).sk === sk)) out.push(service);
  }
  return out.sort();
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}
