/**
 * The pre-traffic hook of a mesh's gated deployments (CodeDeploy's BeforeAllowTraffic). CodeDeploy
 * invokes it with `{ DeploymentId, LifecycleEventHookExecutionId }` before the `live` alias moves:
 * 1. GetDeployment names the deployment group, which is the service (shared/names.ts DEPLOYMENT);
 * 2. MESH_DEPLOY_CHECKS gives that service's function, new version and synthetic request; the
 *    deployment's target (GetDeploymentTarget) must be that function and version, as the check vouches
 *    for the version it pings and the shift moves traffic to the target;
 * 3. deploy-check.ts pings the new version (and sends the request) as `mesh-deploy-check`;
 * 4. PutLifecycleEventHookExecutionStatus: Succeeded lets traffic shift, Failed stops the deployment
 *    before any traffic reaches the new version (and CodeDeploy rolls the alias back).
 * The verdict's message names the failed check: it is the one log line of the run and the result of
 * the invocation (CodeDeploy's API takes a status only). Never throws after step 4: CodeDeploy invokes
 * hooks asynchronously, and Lambda's retry of a failed event would report the same execution twice.
 */
import { createHash } from 'node:crypto';
import {
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { DEPLOYMENT } from '../../shared/names';
import { lambdaTraceHeader } from '../../shared/trace-header';
import { encodeClientContext } from '../mesh/client-context';
import { loadIdentity } from '../mesh/identity';
import { LambdaInvokeTransport } from '../mesh/transport/lambda-invoke';
import {
  type CheckInvoke,
  type CheckResponse,
  type DeployedTarget,
  parseDeployChecks,
  runDeployCheck,
  targetMismatch,
} from './deploy-check';

/** Each Invoke of the new version: a cold start included, well inside the hook's own timeout. */
const INVOKE_TIMEOUT_MS = 25_000;

interface HookEvent {
  readonly DeploymentId?: string;
  readonly LifecycleEventHookExecutionId?: string;
}

let codedeploy: CodeDeployClient | undefined;
let transport: LambdaInvokeTransport | undefined;

export async function handler(event: HookEvent): Promise<{ status: string; message: string }> {
  const env = process.env;
  codedeploy ??= new CodeDeployClient({
    endpoint: env.AWS_ENDPOINT_URL_CODEDEPLOY || env.AWS_ENDPOINT_URL || undefined,
  });
  const deploymentId = event.DeploymentId;
  const executionId = event.LifecycleEventHookExecutionId;
  if (!deploymentId || !executionId) {
    const message = 'mesh deploy check: the event has no DeploymentId or LifecycleEventHookExecutionId';
    log('ERROR', message, {});
    return { status: 'Failed', message };
  }
  // Filed under the deployment too: an execution id is one deployment's, and a verdict is never another's.
  const key = `${deploymentId}\n${executionId}`;
  const verdict = verdicts.get(key) ?? remember(key, await checkOnce(deploymentId, executionId, env));
  const status = verdict.ok ? 'Succeeded' : 'Failed';
  log(verdict.ok ? 'INFO' : 'ERROR', verdict.message, { deploymentId, status });
  await codedeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId,
      lifecycleEventHookExecutionId: executionId,
      status,
    }),
  );
  return { status, message: verdict.message };
}

/**
 * Verdicts by hook execution. A hook run that throws, as it does when the status report fails, may run
 * again for the same execution (Lambda retries an asynchronous invocation): a run that finds its
 * execution's verdict reports it again instead of checking again, which would send the synthetic
 * request a second time. A retry that lands on another sandbox checks again, under the same
 * idempotency keys (checkKey).
 */
const verdicts = new Map<string, Verdict>();
/** Executions remembered: a deployment's hook runs once, so a few cover the retries of the latest. */
const VERDICTS_KEPT = 32;

interface Verdict {
  readonly ok: boolean;
  readonly message: string;
}

function remember(key: string, verdict: Verdict): Verdict {
  if (verdicts.size >= VERDICTS_KEPT) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, verdict);
  return verdict;
}

async function checkOnce(deploymentId: string, executionId: string, env: NodeJS.ProcessEnv): Promise<Verdict> {
  try {
    return await check(deploymentId, executionId, env);
  } catch (err) {
    return { ok: false, message: `mesh deploy check failed: ${(err as Error)?.message ?? String(err)}` };
  }
}

/**
 * The idempotency key of one of the check's invocations: the same for the same request of the same hook
 * execution, so a retried hook's synthetic request reaches the new version under the key it first had
 * and a handler that deduplicates by it (as on a retried mesh call) does not act twice.
 */
export function checkKey(executionId: string, payload: Uint8Array): string {
  const h = createHash('sha256').update(executionId).update('\n').update(payload).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function check(deploymentId: string, executionId: string, env: NodeJS.ProcessEnv): Promise<Verdict> {
  const checks = parseDeployChecks(env[DEPLOYMENT.checksEnv]);
  const out = await codedeploy!.send(new GetDeploymentCommand({ deploymentId }));
  const service = out.deploymentInfo?.deploymentGroupName;
  const spec = service ? checks.get(service) : undefined;
  if (!service || !spec) {
    return {
      ok: false,
      message: `mesh deploy check: deployment ${deploymentId} is of group ${JSON.stringify(service)}, which no gated service of this mesh names`,
    };
  }
  const mismatch = targetMismatch(deploymentId, service, spec, await deployedTarget(deploymentId));
  if (mismatch) return { ok: false, message: mismatch };
  return runDeployCheck(service, spec, invokeAsCheck(service, executionId, env));
}

/** The function and version the deployment shifts the alias to: its one target, the alias (LambdaTarget). */
async function deployedTarget(deploymentId: string): Promise<DeployedTarget | undefined> {
  const { targetIds } = await codedeploy!.send(new ListDeploymentTargetsCommand({ deploymentId }));
  const targetId = targetIds?.[0];
  if (!targetId) return undefined;
  const out = await codedeploy!.send(new GetDeploymentTargetCommand({ deploymentId, targetId }));
  return out.deploymentTarget?.lambdaTarget?.lambdaFunctionInfo;
}

/** Invokes the new version by number, with mesh metadata signed by the hook's identity. */
function invokeAsCheck(service: string, executionId: string, env: NodeJS.ProcessEnv): CheckInvoke {
  return async (spec, payload) => {
    transport ??= new LambdaInvokeTransport({ env });
    const bytes = Buffer.from(JSON.stringify(payload));
    const identity = await loadIdentity();
    const deadline = Date.now() + INVOKE_TIMEOUT_MS;
    const idempotencyKey = checkKey(executionId, bytes);
    // The token binds the request as the callee verifies it: the payload, the key and the deadline.
    const tok = identity?.sign({ target: service, payload: bytes, idempotencyKey, deadline });
    const clientContext = encodeClientContext({
      v: 1,
      src: DEPLOYMENT.checkSource,
      dl: deadline,
      att: 1,
      idk: idempotencyKey,
      ...(tok ? { tok } : {}),
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), INVOKE_TIMEOUT_MS);
    try {
      const r = await transport.invoke({
        functionName: spec.functionName,
        qualifier: spec.version,
        payload: bytes,
        clientContext,
        signal: ac.signal,
        // The check's invocation joins the hook's trace: it is the mesh's own, not the app's traffic.
        traceHeader: lambdaTraceHeader(env),
      });
      return toResponse(r.payload, r.functionError);
    } finally {
      clearTimeout(timer);
    }
  };
}

function toResponse(payload: Uint8Array, functionError: string | undefined): CheckResponse {
  const text = Buffer.from(payload).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!functionError) return { result: body };
  const b = (body ?? {}) as { errorType?: unknown; errorMessage?: unknown };
  return {
    functionError: {
      errorType: typeof b.errorType === 'string' ? b.errorType : functionError,
      errorMessage: typeof b.errorMessage === 'string' ? b.errorMessage : text.slice(0, 500),
    },
  };
}

function log(level: string, msg: string, fields: Record<string, string>): void {
  console.log(JSON.stringify({ level, msg, ...fields }));
}
