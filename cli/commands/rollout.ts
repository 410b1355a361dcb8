/**
 * `mesh rollout <service>`: the canary controller (Flagger / Argo Rollouts for Lambda). Steps the
 * canary's share of the `live` alias through --steps; after each interval reads the canary version's
 * golden metrics from where `mesh stat` reads them (the local mesh's /_mesh/stats or CloudWatch) and
 * gates on them. A failed gate rolls back at once (exit 1); every gate passed promotes (exit 0).
 * Ctrl-C rolls back too, and so does stdout's reader going away. The alias is planned and written by
 * alias-plan.ts and alias-store.ts, the metrics come from the telemetry source `mesh stat` reads, and
 * the decisions are rollout-gate.ts.
 */

import type { StatsSnapshot } from '../../shared/telemetry/golden-metrics';
import type { TelemetrySource } from '../../shared/telemetry/telemetry-source';
import { type AliasState, describeSplit, planPromote, planRollback, planShift } from '../alias-plan';
import { getLiveAlias, listVersions, updateLiveAlias } from '../alias-store';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { refuseWhileDeploying } from '../deployment-guard';
import { EXIT } from '../errors';
import { fitHelp } from '../help-fit';
import { onStop, type StopCause } from '../interrupt';
import { findService } from '../mesh-discovery';
import { withPromoteRecord } from '../promote-record';
import { checkAliasCommand, readRoute } from '../route-guard';
import { wrapWords } from '../table-format';
import { pickTelemetrySource } from '../telemetry/telemetry-source';
import {
  type CanaryMetrics,
  describeOptions,
  type GateVerdict,
  judgeStep,
  ms,
  type NextAction,
  nextAction,
  parseRolloutOptions,
  pct,
  type RolloutOptions,
} from './rollout-gate';

export const ROLLOUT_HELP = `mesh rollout <service> [--steps 10,25,50,100] [--interval 30s] [--min-success 99]
             [--max-p99 500ms] [--min-requests 20] [--json] [AWS flags]

Progressive canary rollout with metric gates. Gives the canary (the version \`mesh shift\` would move
traffic to) each share in --steps of the live alias in turn; after each --interval it reads the
canary version's golden metrics (as \`mesh stat\`: the local mesh's /_mesh/stats, or CloudWatch) and
checks: at least --min-requests requests, success rate >= --min-success, p99 <= --max-p99.
Too few requests waits one more interval at the same share, then fails.
  - a failed gate rolls back at once (weights cleared, the stable version keeps 100%), exit 1
  - every gate passed promotes the canary (live -> canary version), exit 0
  - Ctrl-C rolls back and exits 130; output whose reader has gone (| head) rolls back, exit 1
Refused while a CodeDeploy deployment (a gated deploy) owns the live alias.

Flags:
  --steps <list>         canary shares in percent, increasing (default 10,25,50,100)
  --interval <duration>  time at each share before the gate: 30s, 2m (default 30s, at least 1s)
  --min-success <pct>    minimum success rate of the canary in percent (default 99)
  --max-p99 <latency>    maximum p99 latency of the canary: 500ms, 2s (default 500ms)
  --min-requests <n>     requests the canary must have served in the window (default 20)
  --json                 print the outcome (and every step) as one JSON object at the end
  --dry-run              check everything and print the plan; write nothing
  --mesh, --region, --endpoint-url   as for every mesh command

A route item with weights on the service decides the split for every caller in the mesh, so the
rollout refuses to start (exit 2) and names the command that removes it. The promote at the end is
recorded on the alias, so \`mesh rollback\` can return to the version it replaced.

Example:
  mesh rollout payments --steps 10,50,100 --interval 1m --min-success 99.5 --max-p99 300ms`;

const OPTIONS = {
  ...AWS_OPTIONS,
  steps: { type: 'string' },
  interval: { type: 'string' },
  'min-success': { type: 'string' },
  'max-p99': { type: 'string' },
  'min-requests': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

/** A rollout that did not promote: exit 1 with the reason as the one line on stderr. */
class RolloutFailed extends Error {
  override readonly name = 'RolloutFailed';
  readonly exitCode = EXIT.failure;
}

interface StepRecord {
  readonly step: number;
  readonly percent: number;
  readonly windowMs: number;
  readonly requests: number;
  readonly successRate: number | null;
  readonly p99: number | null;
  readonly verdict: GateVerdict['verdict'];
  readonly reason?: string;
}

/** Ctrl-C (or stdout's reader going away) as a flag plus a wake-up for the sleep in progress. */
function interruptible() {
  let wake: (() => void) | undefined;
  const state: { interrupted: StopCause | undefined } = { interrupted: undefined };
  const dispose = onStop((cause) => {
    state.interrupted ??= cause;
    wake?.();
  });
  return {
    state,
    sleep: (msDelay: number) =>
      new Promise<void>((resolve) => {
        if (state.interrupted) return resolve();
        const t = setTimeout(done, msDelay);
        function done() {
          clearTimeout(t);
          wake = undefined;
          resolve();
        }
        wake = done;
      }),
    dispose,
  };
}

function canaryMetrics(snapshot: StatsSnapshot, service: string, version: string): CanaryMetrics | undefined {
  const v = snapshot.services.find((s) => s.service === service)?.versions.find((x) => x.version === version);
  return v ? { requests: v.requests, successRate: v.successRate, p99: v.p99 } : undefined;
}

/** One rollout in progress: what it rolls out, where it reads metrics, and what it has done. */
interface Rollout {
  readonly service: string;
  readonly functionName: string;
  readonly stable: string;
  readonly canary: string;
  readonly versions: readonly string[];
  readonly opts: RolloutOptions;
  readonly clients: AwsClients;
  readonly metrics: TelemetrySource;
  readonly say: (line: string) => void;
  readonly steps: StepRecord[];
  alias: AliasState;
  /** The alias has been written: a failure from here on must roll back. */
  touched: boolean;
  /** The share the canary has now. */
  percent: number;
}

/** How the steps ended: every gate passed, a gate failed, or Ctrl-C (or stdout's reader gone). */
type Ending =
  | { readonly kind: 'promote' }
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'interrupted'; readonly cause: StopCause };

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('rollout', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(ROLLOUT_HELP, ctx.columns));
    return EXIT.ok;
  }
  const [serviceName] = expectPositionals('rollout', positionals, ['service']);
  const opts = parseRolloutOptions(values);
  const flags = awsFlags(values);
  const r = await prepare(ctx, flags, serviceName!, opts);
  r.say(`${r.service}: rollout of v${r.canary} over v${r.stable} (${r.functionName}); ${describeOptions(opts)}`);
  if (values['dry-run']) {
    ctx.out(
      flags.json
        ? JSON.stringify(
            { command: 'rollout', dryRun: true, service: r.service, stable: r.stable, canary: r.canary, options: opts },
            null,
            2,
          )
        : 'dry run: nothing written',
    );
    return EXIT.ok;
  }
  const sig = interruptible();
  try {
    const ending = await runSteps(r, sig);
    sig.dispose();
    return await finish(r, ending, ctx, flags.json);
  } catch (err) {
    // Any other failure after the first write (metrics unreachable, a concurrent alias change):
    // the canary must not keep traffic nobody is watching.
    if (r.touched && !(err instanceof RolloutFailed)) await rollbackAfterError(r, ctx);
    throw err;
  } finally {
    sig.dispose();
  }
}

/** Finds the service, its alias and versions, and the canary; writes nothing. */
async function prepare(
  ctx: CliContext,
  flags: ReturnType<typeof awsFlags>,
  serviceName: string,
  opts: RolloutOptions,
): Promise<Rollout> {
  const { mesh, clients } = await ctx.discover(flags);
  const svc = findService(mesh, serviceName);
  // A gated deployment moves the alias itself: a rollout beside it would fight it.
  await refuseWhileDeploying(flags, ctx, mesh.name, svc.service, 'rollout');
  const fn = svc.functionName;
  const [alias, versions, route] = await Promise.all([
    getLiveAlias(clients, fn),
    listVersions(clients, fn),
    readRoute(clients, mesh.table, svc.service),
  ]);
  // planShift names the canary, or refuses (exit 2) when there is none.
  const first = planShift(svc.service, fn, alias, versions, opts.steps[0]!);
  // A route item with weights would keep the canary's traffic where it is: refuse before any write.
  const note = checkAliasCommand('rollout', svc.service, route);
  if (note && !flags.json) ctx.out(wrapWords(note, ctx.columns, '  '));
  return {
    service: svc.service,
    functionName: fn,
    stable: alias.functionVersion,
    canary: Object.keys(first.after.weights)[0]!,
    versions,
    opts,
    clients,
    metrics: await pickTelemetrySource(flags, ctx),
    // A progress line carries its gate's reason: at a terminal it breaks under the step, not across the screen.
    say: (line) => {
      if (!flags.json) ctx.out(wrapWords(line, ctx.columns, '  '));
    },
    steps: [],
    alias,
    touched: false,
    percent: opts.steps[0]!,
  };
}

/** Shifts, waits and gates step by step until the rollout is decided or interrupted. */
async function runSteps(r: Rollout, sig: ReturnType<typeof interruptible>): Promise<Ending> {
  let step = 0;
  let extended = false;
  let stepStart = 0;
  for (;;) {
    if (sig.state.interrupted) return { kind: 'interrupted', cause: sig.state.interrupted };
    if (!extended) {
      await shiftTo(r, r.percent);
      stepStart = Date.now();
    }
    await sig.sleep(r.opts.intervalMs);
    if (sig.state.interrupted) return { kind: 'interrupted', cause: sig.state.interrupted };
    const next = await gate(r, step, Date.now() - stepStart, extended);
    if (next.action === 'promote') return { kind: 'promote' };
    if (next.action === 'rollback') return { kind: 'rollback', reason: next.reason };
    extended = next.action === 'extend';
    if (next.action === 'shift') {
      step = next.step;
      r.percent = next.percent;
    }
  }
}

/** Gives the canary `percent` of the live alias (nothing written when it already has it). */
async function shiftTo(r: Rollout, percent: number): Promise<void> {
  const change = planShift(r.service, r.functionName, r.alias, r.versions, percent);
  if (change.after.weights[r.canary] === undefined)
    throw new RolloutFailed(`the canary of ${r.service} changed under the rollout`);
  r.touched = true;
  if (change.changed) r.alias = await updateLiveAlias(r.clients, r.functionName, change.after, r.alias.revisionId);
}

/** Reads the canary's metrics over the step's window, judges them, records and reports the step. */
async function gate(r: Rollout, step: number, windowMs: number, extended: boolean): Promise<NextAction> {
  const m = canaryMetrics(await r.metrics.stats(windowMs), r.service, r.canary);
  const verdict = judgeStep(m, r.opts, r.canary, extended);
  r.steps.push({
    step: step + 1,
    percent: r.percent,
    windowMs,
    requests: m?.requests ?? 0,
    successRate: m?.successRate ?? null,
    p99: m?.p99 ?? null,
    verdict: verdict.verdict,
    ...(verdict.verdict !== 'pass' ? { reason: verdict.reason } : {}),
  });
  r.say(progressLine(step, r.opts.steps.length, r.percent, r.canary, m, verdict));
  return nextAction(step, r.opts, verdict);
}

/** Promotes, rolls back or reports the interruption; the exit code. */
async function finish(r: Rollout, ending: Ending, ctx: CliContext, json: boolean): Promise<number> {
  const summary = (result: string, reason?: string) =>
    JSON.stringify(
      {
        command: 'rollout',
        service: r.service,
        functionName: r.functionName,
        stable: r.stable,
        canary: r.canary,
        result,
        ...(reason ? { reason } : {}),
        options: r.opts,
        steps: r.steps,
      },
      null,
      2,
    );
  if (ending.kind === 'promote') {
    const change = withPromoteRecord(planPromote(r.service, r.functionName, r.alias, r.versions), new Date());
    r.alias = await updateLiveAlias(r.clients, r.functionName, change.after, r.alias.revisionId);
    r.say(
      `${r.service}: promoted v${r.canary}: live ${describeSplit(change.before)} -> ${describeSplit(change.after)}`,
    );
    if (json) ctx.out(summary('promoted'));
    return EXIT.ok;
  }
  const back = await rollback(r.clients, r.service, r.functionName);
  if (ending.kind === 'rollback') {
    if (json) ctx.out(summary('rolled back', ending.reason));
    throw new RolloutFailed(`${r.service} rolled back to ${describeSplit(back)} at ${r.percent}%: ${ending.reason}`);
  }
  if (ending.cause === 'output-closed') {
    // Nobody reads the gates any more (`mesh rollout ... | head -1`): the canary goes back, as after an error.
    throw new RolloutFailed(
      `its output was closed (the reader of stdout went away) at ${r.percent}%: ${r.service} rolled back to ${describeSplit(back)}`,
    );
  }
  if (json) ctx.out(summary('interrupted', 'Ctrl-C'));
  ctx.err(`mesh rollout: interrupted (Ctrl-C) at ${r.percent}%: ${r.service} rolled back to ${describeSplit(back)}`);
  return 130;
}

async function rollbackAfterError(r: Rollout, ctx: CliContext): Promise<void> {
  try {
    const back = await rollback(r.clients, r.service, r.functionName);
    ctx.err(`mesh rollout: ${r.service} rolled back to ${describeSplit(back)} after an error`);
  } catch (e) {
    ctx.err(
      `mesh rollout: rollback after an error failed too (${(e as Error).message}); run \`mesh rollback ${r.service}\``,
    );
  }
}

/** Weights cleared on a fresh read of the alias (its revision may have moved since ours). */
async function rollback(clients: AwsClients, service: string, fn: string) {
  const now = await getLiveAlias(clients, fn);
  const change = planRollback(service, fn, now);
  if (change.changed) await updateLiveAlias(clients, fn, change.after, now.revisionId);
  return change.after;
}

function progressLine(
  step: number,
  total: number,
  percent: number,
  canary: string,
  m: CanaryMetrics | undefined,
  v: GateVerdict,
): string {
  const success = m?.successRate === null || m?.successRate === undefined ? '-' : pct(m.successRate);
  const p99 = m?.p99 === null || m?.p99 === undefined ? '-' : ms(m.p99);
  const verdict =
    v.verdict === 'pass'
      ? 'pass'
      : v.verdict === 'wait'
        ? `wait (${v.reason}; one more interval)`
        : `FAIL (${v.reason})`;
  return `  step ${step + 1}/${total}  ${String(percent).padStart(3)}% v${canary}  requests ${String(m?.requests ?? 0).padStart(4)}  success ${success.padStart(6)}  p99 ${p99.padStart(6)}  ${verdict}`;
}
