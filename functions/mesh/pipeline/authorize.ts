/**
 * Stage `authorize`: the target's policy decides before anything is sent (deny by default, fail
 * fast). The refusal tells application code only `denied` and the call's key; the reason goes to
 * this function's access log. An admitted call learns its traffic policy and counts in the budget.
 * While serving a mirror copy, only calls on idempotent edges go out.
 */
import type { ChannelTarget } from '../../../shared/channel';
import { ENV, LIVE_ALIAS } from '../../../shared/names';
import type { ServicePolicy } from '../policy/service-policy';
import { authorize as decideCall } from '../policy-decision';
import { settlesSoon } from '../settles-soon';
import type { AuthorizedCall, CallContext } from './call-context';
import { MeshCallError, MeshDeniedError, MeshTimeoutError } from './errors';
import { ended } from './record';

export async function authorize(call: CallContext): Promise<AuthorizedCall> {
  const { deps, budgets } = call.client;
  const decidedAt = deps.policy.now();
  const policy = await policyBefore(call, deps.policy.get(call.target));
  const eff = decideCall(policy, deps.service, deps.policy.freshness(decidedAt, call.target));
  if (!eff.allowed) refuse(call, `${eff.reason}: ${eff.detail}`);
  const traffic = eff.policy;
  // A mirror copy's answer is dropped, so what it does must not count: a call on an edge that is not
  // idempotent, or a send, would repeat a side effect of the real call (which may even arrive second).
  if (call.scope?.mirror && (call.mode === 'send' || !traffic.idempotent)) {
    const why = call.mode === 'send' ? 'a message' : 'not idempotent';
    const err = new MeshCallError(`mesh: a mirror copy makes no ${call.mode} to ${call.target} (${why})`, 409);
    throw ended(call, 'client-error', err, { reason: `mirror copy: ${why}` });
  }
  const channel = call.mode === 'send' ? channelOf(call) : undefined;
  const alias = policy.serviceItem?.alias ?? LIVE_ALIAS;
  const bytes = Buffer.from(JSON.stringify(call.payload === undefined ? {} : call.payload));
  const budget = budgets.get(call.key, traffic.budget);
  budget.recordRequest(call.startedAt);
  call.version = alias;
  return Object.assign(call, {
    policy,
    traffic,
    functionName:
      channel?.arn ?? call.detour?.functionArn ?? policy.serviceItem?.functionName ?? `${deps.meshName}-${call.target}`,
    alias,
    bytes,
    overallDeadline: call.startedAt + (call.options.timeoutMs ?? traffic.timeoutMs),
    budget,
    channel,
  });
}

/** Turns of the microtask queue a copy at hand takes to arrive (a stale one refreshed behind it takes 3). */
const SETTLE_TURNS = 8;

/** The refusal of a call: the caller learns `denied` and its key, the access log `reason`. */
function refuse(call: CallContext, reason: string): never {
  const err = new MeshDeniedError(
    `mesh: the call to ${call.target} was refused: denied (request ${call.idempotencyKey}); ` +
      'the reason is in the mesh access log',
  );
  // The outcome `denied` counts in denied_total by itself.
  throw ended(call, 'denied', err, { reason });
}

/**
 * The policy `read`, bounded by the call's own deadline (the earlier of its timeoutMs and the deadline
 * of the invocation it serves; neither known: unbounded). A table out of reach waits up to 3 attempts
 * of 3 s per request: the call ends at its deadline instead, having sent nothing, while the read goes
 * on. It ran out of time, as a call with no time left for an attempt does: a timeout, not a refusal, so
 * a slow table does not show as denials. A copy at hand settles within a few turns of the microtask
 * queue and arms no timer.
 */
async function policyBefore(call: CallContext, read: Promise<ServicePolicy>): Promise<ServicePolicy> {
  const deadline = Math.min(call.startedAt + (call.options.timeoutMs ?? Infinity), call.scope?.deadline ?? Infinity);
  if (deadline === Infinity) return read;
  if (await settlesSoon(read, SETTLE_TURNS)) return read;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadline - call.client.now());
  }).then((): never => {
    const why = `the policy table did not answer before the call's deadline (${deadline - call.startedAt} ms)`;
    const err = new MeshTimeoutError(`mesh: call to ${call.target} has no time left: ${why}`);
    throw ended(call, 'timeout', err, { reason: `stale-policy: ${why}` });
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The channel a `send` names (MESH_CHANNELS), else undefined: an Event invoke of the service. The
 * deployment is the only source of channels; a malformed declaration fails closed.
 */
function channelOf(call: CallContext): ChannelTarget | undefined {
  const declared = call.client.deps.channels?.();
  if (!declared) return undefined;
  if (!declared.ok) {
    throw new MeshCallError(
      `mesh: ${ENV.channels} is malformed (${declared.error}); MeshFunction sets it at deploy, so redeploy the function`,
      500,
    );
  }
  return declared.channels.get(call.target);
}
