/**
 * `mesh rollout <service>`: the canary controller (Flagger / Argo Rollouts for Lambda). Steps the
 * canary's share of the `live` alias through --steps; after each interval reads the canary version's
 * golden metrics from where `mesh stat` reads them (the local mesh's /_mesh/stats or CloudWatch) and
 * gates on them. A failed gate rolls back at once (exit 1); every gate passed promotes (exit 0).
 * Ctrl-C rolls back too. Alias planning and writes are D's (alias-plan, alias-store); the metrics
 * reader is G's (stat.ts fetchStats); the decisions are rollout-gate.ts.
 */
import { type AliasState, describeSplit, planPromote, planRollback, planShift } from '../alias-plan';
import { getLiveAlias, listVersions, updateLiveAlias } from '../alias-store';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { refuseWhileDeploying } from '../deployment-guard';
import { EXIT } from '../errors';
import { findService } from '../mesh-discovery';
import {
  type CanaryMetrics,
  describeOptions,
  type GateVerdict,
  judgeStep,
  ms,
  nextAction,
  parseRolloutOptions,
  pct,
} from './rollout-gate';
import { fetchStats } from './stat';

export const ROLLOUT_HELP = `mesh rollout <service> [--steps 10,25,50,100] [--interval 30s] [--min-success 99]
             [--max-p99 500ms] [--min-requests 20] [--json] [AWS flags]

Progressive canary rollout with metric gates. Gives the canary (the version \`mesh shift\` would move
traffic to) each share in --steps of the live alias in turn; after each --interval it reads the
canary version's golden metrics (as \`mesh stat\`: the local mesh's /_mesh/stats, or CloudWatch) and
checks: at least --min-requests requests, success rate >= --min-success, p99 <= --max-p99.
Too few requests waits one more interval at the same share, then fails.
  - a failed gate rolls back at once (weights cleared, the stable version keeps 100%), exit 1
  - every gate passed promotes the canary (live -> canary version), exit 0
  - Ctrl-C rolls back and exits 130
Refused while a CodeDeploy deployment (a gated deploy) owns the live alias.

Flags:
  --steps <list>         canary shares in percent, increasing (default 10,25,50,100)
  --interval <duration>  time at each share before the gate: 30s, 2m (default 30s, at least 1s)
  --min-success <pct>    minimum success rate of the canary in percent (default 99)
  --max-p99 <latency>    maximum p99 latency of the canary: 500ms, 2s (default 500ms)
  --min-requests <n>     requests the canary must have served in the window (default 20)
  --json                 print the outcome (and every step) as one JSON object at the end
  --mesh, --region, --endpoint-url   as for every mesh command

Example:
  mesh rollout payments --steps 10,50,100 --interval 1m --min-success 99.5 --max-p99 300ms`;

const OPTIONS = {
  ...AWS_OPTIONS,
  steps: { type: 'string' },
  interval: { type: 'string' },
  'min-success': { type: 'string' },
  'max-p99': { type: 'string' },
  'min-requests': { type: 'string' },
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

/** Ctrl-C as a flag plus a wake-up for the sleep in progress. */
function interruptible() {
  let wake: (() => void) | undefined;
  const state = { interrupted: false };
  const onSigint = () => {
    state.interrupted = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
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
    dispose: () => process.off('SIGINT', onSigint),
  };
}

function canaryMetrics(
  snapshot: Awaited<ReturnType<typeof fetchStats>>,
  service: string,
  version: string,
): CanaryMetrics | undefined {
  const v = snapshot.services.find((s) => s.service === service)?.versions.find((x) => x.version === version);
  return v ? { requests: v.requests, successRate: v.successRate, p99: v.p99 } : undefined;
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('rollout', args, OPTIONS);
  if (values.help) {
    ctx.out(ROLLOUT_HELP);
    return EXIT.ok;
  }
  const [serviceName] = expectPositionals('rollout', positionals, ['service']);
  const opts = parseRolloutOptions(values);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const svc = findService(mesh, serviceName!);
  await refuseWhileDeploying(flags, ctx, mesh.name, svc.service, 'rollout');
  const fn = svc.functionName;
  const [initial, versions] = await Promise.all([getLiveAlias(clients, fn), listVersions(clients, fn)]);
  // planShift names the canary, or refuses (exit 2) when there is none; nothing is written yet.
  const first = planShift(svc.service, fn, initial, versions, opts.steps[0]!);
  const canary = Object.keys(first.after.weights)[0]!;
  const stable = initial.functionVersion;
  const say = (line: string) => {
    if (!flags.json) ctx.out(line);
  };
  say(`${svc.service}: rollout of v${canary} over v${stable} (${fn}); ${describeOptions(opts)}`);

  const steps: StepRecord[] = [];
  const summary = (result: string, reason?: string) => ({
    command: 'rollout',
    service: svc.service,
    functionName: fn,
    stable,
    canary,
    result,
    ...(reason ? { reason } : {}),
    options: opts,
    steps,
  });
  const sig = interruptible();
  let alias: AliasState = initial;
  let touched = false;
  try {
    let step = 0;
    let extended = false;
    let stepStart = 0;
    let percent = opts.steps[0]!;
    for (;;) {
      if (!extended) {
        const change = planShift(svc.service, fn, alias, versions, percent);
        if (change.after.weights[canary] === undefined)
          throw new RolloutFailed(`the canary of ${svc.service} changed under the rollout`);
        touched = true;
        if (change.changed) alias = await updateLiveAlias(clients, fn, change.after, alias.revisionId);
        stepStart = Date.now();
      }
      await sig.sleep(opts.intervalMs);
      if (sig.state.interrupted) break;
      const windowMs = Date.now() - stepStart;
      const m = canaryMetrics(await fetchStats(flags, ctx, windowMs), svc.service, canary);
      const verdict = judgeStep(m, opts, canary, extended);
      steps.push({
        step: step + 1,
        percent,
        windowMs,
        requests: m?.requests ?? 0,
        successRate: m?.successRate ?? null,
        p99: m?.p99 ?? null,
        verdict: verdict.verdict,
        ...(verdict.verdict !== 'pass' ? { reason: verdict.reason } : {}),
      });
      say(progressLine(step, opts.steps.length, percent, canary, m, verdict));
      const next = nextAction(step, opts, verdict);
      if (next.action === 'extend') {
        extended = true;
        continue;
      }
      if (next.action === 'shift') {
        step = next.step;
        percent = next.percent;
        extended = false;
        continue;
      }
      if (next.action === 'promote') {
        const change = planPromote(svc.service, fn, alias, versions);
        alias = await updateLiveAlias(clients, fn, change.after, alias.revisionId);
        sig.dispose();
        say(
          `${svc.service}: promoted v${canary}: live ${describeSplit(change.before)} -> ${describeSplit(change.after)}`,
        );
        if (flags.json) ctx.out(JSON.stringify(summary('promoted'), null, 2));
        return EXIT.ok;
      }
      const back = await rollback(clients, svc.service, fn);
      const reason = `${svc.service} rolled back to ${describeSplit(back)} at ${percent}%: ${next.reason}`;
      if (flags.json) ctx.out(JSON.stringify(summary('rolled back', next.reason), null, 2));
      throw new RolloutFailed(reason);
    }
    // Ctrl-C.
    const back = await rollback(clients, svc.service, fn);
    if (flags.json) ctx.out(JSON.stringify(summary('interrupted', 'Ctrl-C'), null, 2));
    ctx.err(`mesh rollout: interrupted (Ctrl-C) at ${percent}%: ${svc.service} rolled back to ${describeSplit(back)}`);
    return 130;
  } catch (err) {
    // Any other failure after the first write (metrics unreachable, a concurrent alias change):
    // the canary must not keep traffic nobody is watching.
    if (touched && !(err instanceof RolloutFailed)) {
      try {
        const back = await rollback(clients, svc.service, fn);
        ctx.err(`mesh rollout: ${svc.service} rolled back to ${describeSplit(back)} after an error`);
      } catch (e) {
        ctx.err(
          `mesh rollout: rollback after an error failed too (${(e as Error).message}); run \`mesh rollback ${svc.service}\``,
        );
      }
    }
    throw err;
  } finally {
    sig.dispose();
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
