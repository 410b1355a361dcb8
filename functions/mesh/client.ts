/**
 * The outbound pipeline of `call(target, payload)` and `send(target, payload)`, as a composition of
 * stages over one call context (pipeline/): authorize (the target's policy, fail fast) -> limit
 * (mesh-wide rate limits, fail fast) -> connect (identity, transport) -> retry, and in each attempt
 * route -> guard (breaker per version) -> mirror -> sign -> send -> classify -> record; a call whose
 * target failed may go once to its declared fallback (failover). Every attempt carries the same
 * idempotency key, its attempt number and the deadline. The stages keep no state of their own: what
 * calls share lives in the `ClientState`. `send` runs the same stages up to the attempt, which is
 * signed for a message that may wait (signAsync) and sent as an Event invoke or to a channel
 * (sendAsync); it ends when the message is accepted, and has no fallback.
 */

import { authorize } from './pipeline/authorize';
import {
  type AttemptContext,
  type AttemptOutcome,
  type CallContext,
  type CallOptions,
  type CallWithMeta,
  type ClientDeps,
  type ClientState,
  startCall,
} from './pipeline/call-context';
import { answerOf, classify } from './pipeline/classify';
import { failover, metaOf, type Served } from './pipeline/failover';
import { guard, watchBreakers } from './pipeline/guard';
import { limit, rateLimitState } from './pipeline/limit';
import { mirror } from './pipeline/mirror';
import { openSpan, recordAttempt, recordSuccess } from './pipeline/record';
import { retry } from './pipeline/retry';
import { route } from './pipeline/route';
import { send, sendAsync } from './pipeline/send';
import { connect, sign, signAsync } from './pipeline/sign';
import { Breakers } from './resilience/circuit-breaker';
import { RetryBudgets } from './resilience/retry-budget';
import { AliasVersions } from './routing/alias-pin';
import { RouteBalancers } from './routing/route-choice';

export type { CallMeta, CallOptions, CallWithMeta, ClientDeps, Signer } from './pipeline/call-context';

/** What `send` resolves with once the message is accepted. */
export interface SendReceipt {
  /** The message's idempotency key: its consumer reads it (mesh.context()) to deduplicate redeliveries. */
  readonly idempotencyKey: string;
  /** The id SQS, SNS or EventBridge gave the message (an Event invoke gets none). */
  readonly messageId?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A client's state before its first call: its clocks, and empty breakers, budgets, balancers and buckets. */
export function clientState(deps: ClientDeps): ClientState {
  return {
    deps,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    sleep: deps.sleep ?? defaultSleep,
    breakers: new Breakers(),
    budgets: new RetryBudgets(),
    balancers: new RouteBalancers(),
    aliases: new AliasVersions(),
    channelTransports: new Map(),
    rateLimits: rateLimitState(),
  };
}

export class MeshClient {
  private readonly state: ClientState;

  constructor(deps: ClientDeps) {
    this.state = clientState(deps);
    watchBreakers(this.state);
  }

  call<T = unknown>(
    target: string,
    payload: unknown,
    options: CallOptions & { withMeta: true },
  ): Promise<CallWithMeta<T>>;
  call<T = unknown>(target: string, payload: unknown, options?: CallOptions): Promise<T>;
  async call<T = unknown>(target: string, payload: unknown, options: CallOptions = {}): Promise<T | CallWithMeta<T>> {
    const primary = startCall(this.state, target, payload, options);
    let served: Served;
    try {
      served = await serve(primary);
    } catch (err) {
      served = await failover(primary, err, serve);
    }
    const result = answerOf<T>(served.answer);
    return options.withMeta ? { result, meta: metaOf(served) } : result;
  }

  async send(target: string, payload: unknown, options: CallOptions = {}): Promise<SendReceipt> {
    const authorized = await authorize(startCall(this.state, target, payload, options, 'send'));
    await limit(authorized);
    const call = await connect(authorized);
    const accepted = await retry(call, (plan) => attemptAsync(route(call, plan)));
    recordSuccess(call);
    return { idempotencyKey: call.idempotencyKey, ...messageIdOf(accepted) };
  }
}

/** One call through its stages, to an answer or its error. */
async function serve(opened: CallContext): Promise<Served> {
  const authorized = await authorize(opened);
  await limit(authorized);
  const call = await connect(authorized);
  const answer = await retry(call, (plan) => attempt(route(call, plan)));
  recordSuccess(call);
  return { call, answer };
}

/** One attempt through its breaker: mirrored (the first), then signed, sent, classified, traced. */
function attempt(a: AttemptContext): Promise<AttemptOutcome> {
  return guard(a, async () => {
    mirror(a);
    // A `fault` item is applied by the callee (wrapper.ts), so its delays and aborts show on its edge.
    const span = openSpan(a);
    const sent = await send(a, sign(a.call, a.timeout.deadline, a.number, span?.header), span?.header);
    const o = classify(a, sent);
    recordAttempt(a, span, o);
    return o;
  });
}

/** One attempt of a send through its breaker: signed, sent, classified, traced (no mirror: nothing answers). */
function attemptAsync(a: AttemptContext): Promise<AttemptOutcome> {
  return guard(a, async () => {
    const span = openSpan(a);
    const sent = await sendAsync(a, signAsync(a.call, a.number, span?.header), span?.header);
    const o = classify(a, sent);
    recordAttempt(a, span, o);
    return o;
  });
}

/** SQS's MessageId (JSON), SNS's (query protocol: XML), EventBridge's EventId; an Event invoke has none. */
function messageIdOf(o: AttemptOutcome): { messageId?: string } {
  const answer = answerOf<{ MessageId?: unknown; Entries?: { EventId?: unknown }[] } | string | undefined>(o);
  const id =
    typeof answer === 'string'
      ? /<MessageId>([^<]+)<\/MessageId>/.exec(answer)?.[1]
      : (answer?.MessageId ?? answer?.Entries?.[0]?.EventId);
  return typeof id === 'string' ? { messageId: id } : {};
}
