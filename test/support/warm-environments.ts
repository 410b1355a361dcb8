/**
 * Warm-up before a timed phase: a function version gets its execution environments before the phase
 * starts, so the phase's calls do not wait on cold starts.
 *
 * Why a test needs it: a callee refuses work whose deadline passed before it arrived (504), and that
 * deadline is the caller's per-try timeout (orders -> payments: 2 s in the example app). Many
 * environments starting at once on a machine whose cores are busy can take longer than that, and the
 * version then looks as if it failed calls it never saw in time.
 */
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LocalMesh } from '../../local/mesh-local';

export interface WarmTarget {
  readonly functionName: string;
  /** A published version: the environments counted are this version's. */
  readonly version: string;
  /**
   * What each warm-up invoke sends. The caller is `external`, so a mesh service that admits no outside
   * caller refuses it after the environment started: that is all the warm-up needs.
   * @default {}
   */
  readonly payload?: unknown;
}

/** An invoke's answer in a line: its function error, if any, and the start of its payload. */
function describeAnswer(r: InvokeCommandOutput): string {
  const payload = Buffer.from(r.Payload ?? [])
    .toString('utf8')
    .slice(0, 200);
  return r.FunctionError ? `${r.FunctionError}: ${payload}` : `ok: ${payload}`;
}

/** Most rounds of concurrent invokes before the warm-up gives up. */
const MAX_ROUNDS = 20;

/**
 * Invokes `target` `environments` at a time until its version has that many environments. A quick
 * answer frees an environment before the round's last invoke arrives, so one round may start fewer
 * than asked: the rounds go on until the local mesh counts them all. Against another endpoint (no
 * local mesh to count on) one round is all it can do.
 */
export async function warmEnvironments(
  lambda: LambdaClient,
  local: LocalMesh | undefined,
  target: WarmTarget,
  environments: number,
): Promise<void> {
  const started = () =>
    local?.invoker.workers().filter((w) => w.functionName === target.functionName && w.version === target.version)
      .length ?? 0;
  const invoke = () =>
    lambda.send(
      new InvokeCommand({
        FunctionName: target.functionName,
        Qualifier: target.version,
        Payload: Buffer.from(JSON.stringify(target.payload ?? {})),
      }),
    );
  let answers: string[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const results = await Promise.all(Array.from({ length: environments }, invoke));
    if (!local) return;
    if (started() >= environments) return;
    answers = results.map(describeAnswer);
  }
  // What the last round's invokes answered says why their environments did not stay (an init error, a
  // timeout: both discard the environment).
  throw new Error(
    `${target.functionName}:${target.version} has ${started()} environments after ${MAX_ROUNDS} rounds of ` +
      `${environments} invokes, short of ${environments}; the last round answered: ${[...new Set(answers)].join(' | ')}`,
  );
}
