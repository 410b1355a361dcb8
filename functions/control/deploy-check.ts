/**
 * What the pre-traffic hook checks of a new version before CodeDeploy shifts any traffic to it, and
 * the verdict: a mesh ping (the version's wrapper checks its identity, its policy table and a call to
 * each declared target, without running the handler), then the synthetic request the service declared,
 * if any, which runs the handler. Both go as the reserved caller `mesh-deploy-check`, signed by the
 * hook's own identity, straight to the new version's number: the version's wrapper verifies the token
 * and checks its `allow#mesh-deploy-check` item as it would for any caller. Pure apart from `invoke`.
 */
import { firstFailure, pingEvent, readPingAnswer } from '../../shared/deploy-check';
import { DEPLOYMENT } from '../../shared/names';

/** One gated service as the hook's environment (MESH_DEPLOY_CHECKS) describes it. */
export interface DeployCheckSpec {
  readonly functionName: string;
  /** The version this deploy published: the one the deployment shifts to. */
  readonly version: string;
  /** The synthetic request the service declared (runs the handler); absent = the ping only. */
  readonly request?: unknown;
}

/** What came back from one Invoke of the new version. */
export interface CheckResponse {
  /** Set on a function error (a refusal by the wrapper is one too). */
  readonly functionError?: { readonly errorType: string; readonly errorMessage: string };
  readonly result?: unknown;
}

/** Invokes `functionName:version` as `mesh-deploy-check` with this payload. */
export type CheckInvoke = (spec: DeployCheckSpec, payload: unknown) => Promise<CheckResponse>;

export interface DeployCheckVerdict {
  readonly ok: boolean;
  /** One line: what passed, or which check failed and why. */
  readonly message: string;
}

/** The wrapper's refusals, by the check they stand for: the caller learns no more than the error's name. */
const REFUSAL_CHECK: Readonly<Record<string, string>> = {
  MeshUnauthenticatedError: 'identity',
  MeshDeniedError: 'policy',
  MeshDeadlineExceededError: 'deadline',
};

export async function runDeployCheck(
  service: string,
  spec: DeployCheckSpec,
  invoke: CheckInvoke,
): Promise<DeployCheckVerdict> {
  const who = `${service} v${spec.version}`;
  const fail = (check: string, detail: string) => ({
    ok: false,
    message: `mesh deploy check of ${who} failed: ${check}: ${detail}`,
  });
  const failedCall = (what: string, e: NonNullable<CheckResponse['functionError']>) => {
    const check = REFUSAL_CHECK[e.errorType];
    return check
      ? fail(check, `${who} refused ${DEPLOYMENT.checkSource}'s ${what} (${e.errorType})`)
      : fail(what, `${e.errorType}: ${e.errorMessage}`);
  };
  let ping: CheckResponse;
  try {
    ping = await invoke(spec, pingEvent(true));
  } catch (err) {
    return fail('invoke', describe(err));
  }
  if (ping.functionError) return failedCall('ping', ping.functionError);
  const answer = readPingAnswer(ping.result);
  if (!answer) return fail('ping', `${who} answered, but not as a mesh ping: its mesh layer predates the ping`);
  const failure = firstFailure(answer);
  if (failure) return fail(...splitCheck(failure));
  const passed = answer.checks.map((c) => c.name).join(', ');
  if (spec.request === undefined) return { ok: true, message: `mesh deploy check of ${who} passed: ${passed}` };
  let out: CheckResponse;
  try {
    out = await invoke(spec, spec.request);
  } catch (err) {
    return fail('request', describe(err));
  }
  if (out.functionError) return failedCall('request', out.functionError);
  return { ok: true, message: `mesh deploy check of ${who} passed: ${passed}, request` };
}

/** "call inventory: detail" -> ["call inventory", "detail"]. */
function splitCheck(failure: string): [string, string] {
  const i = failure.indexOf(': ');
  return i < 0 ? [failure, ''] : [failure.slice(0, i), failure.slice(i + 2)];
}

/** What a deployment shifts (LambdaTarget's lambdaFunctionInfo, CodeDeploy API Reference). */
export interface DeployedTarget {
  readonly functionName?: string;
  readonly targetVersion?: string;
}

/**
 * Why the check cannot vouch for this deployment, or undefined: it pings the version this deploy
 * published, and a deployment of another version or another function (created by hand, with the hook
 * in its AppSpec) would shift traffic to code the check never reached.
 */
export function targetMismatch(
  deploymentId: string,
  service: string,
  spec: DeployCheckSpec,
  target: DeployedTarget | undefined,
): string | undefined {
  const fn = target?.functionName?.replace(/^arn:[^:]*:lambda:[^:]*:[^:]*:function:/, '');
  if (fn === spec.functionName && target?.targetVersion === spec.version) return undefined;
  const shifts = target ? `${fn ?? '(no function)'} to version ${target.targetVersion ?? '(none)'}` : 'no target';
  return `mesh deploy check: deployment ${deploymentId} shifts ${shifts}, but the check of ${service} is of ${spec.functionName} v${spec.version}, the version this deploy published; deploy another version through the stack`;
}

/**
 * MESH_DEPLOY_CHECKS: gated service -> `{ functionName, version, request? }`. A value that is not
 * that is refused whole, naming the entry: the hook then fails every deployment it is asked about.
 */
export function parseDeployChecks(text: string | undefined): Map<string, DeployCheckSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw new Error(`${DEPLOYMENT.checksEnv} is not JSON; MeshFunction sets it at deploy, so redeploy the stack`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${DEPLOYMENT.checksEnv} must be an object: service -> { functionName, version, request? }`);
  }
  const out = new Map<string, DeployCheckSpec>();
  for (const [service, v] of Object.entries(raw as Record<string, unknown>)) {
    const s = v as Record<string, unknown> | null;
    if (!s || typeof s.functionName !== 'string' || typeof s.version !== 'string' || !/^[0-9]+$/.test(s.version)) {
      throw new Error(
        `${DEPLOYMENT.checksEnv}.${service} must be { functionName, version (a published version number), request? }`,
      );
    }
    out.set(service, {
      functionName: s.functionName,
      version: s.version,
      ...(s.request !== undefined ? { request: s.request } : {}),
    });
  }
  return out;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}
