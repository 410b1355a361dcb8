/**
 * A subscription's filter policy ("Amazon SNS message filtering", Amazon SNS Developer Guide): by default
 * it reads the message attributes (a Number's value as a number, a String.Array's as its elements, a
 * Binary's not at all), with `FilterPolicyScope: MessageBody` the message's JSON body. The matchers are
 * the ones SNS shares with Lambda's event filtering (local/endpoint/event-filter.ts): exact values,
 * `prefix`, `suffix`, `equals-ignore-case`, `exists`, `numeric`, `anything-but` with a value or a list,
 * and `$or`; a policy with another one (`cidr`, `anything-but` with a prefix) is refused when deployed.
 */
import { recordFilter } from '../endpoint/event-filter';
import type { PublishedMessage, SnsAttribute } from './sns-event';

export type FilterScope = 'MessageAttributes' | 'MessageBody';

export type MessageFilter = (message: PublishedMessage) => boolean;

/** The matcher of a filter policy (an object, or its JSON); throws naming the policy and the fix. */
export function messageFilter(policy: unknown, scope: FilterScope = 'MessageAttributes'): MessageFilter {
  const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
  if (scope !== 'MessageAttributes' && scope !== 'MessageBody')
    throw new Error(`FilterPolicyScope must be MessageAttributes or MessageBody, got ${JSON.stringify(scope)}`);
  let matches: (record: unknown) => boolean;
  try {
    matches = recordFilter([text]);
  } catch (err) {
    throw new Error(
      `FilterPolicy ${text}: ${(err as Error).message.replace(/^filter pattern \S+: /, '')} ` +
        '(the local mesh runs the operators SNS shares with Lambda event filtering)',
    );
  }
  return (m) => matches(scope === 'MessageBody' ? bodyOf(m.message) : attributesOf(m.attributes));
}

/** The body as the policy reads it: a JSON object, else nothing matches a field of it. */
function bodyOf(message: string): unknown {
  try {
    return JSON.parse(message);
  } catch {
    return undefined;
  }
}

function attributesOf(attributes: Readonly<Record<string, SnsAttribute>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attributes)) {
    if (a.DataType.startsWith('Number')) out[name] = Number(a.Value);
    else if (a.DataType === 'String.Array') out[name] = arrayOf(a.Value);
    else if (a.DataType.startsWith('String')) out[name] = a.Value;
  }
  return out;
}

function arrayOf(value: string): unknown {
  try {
    const v = JSON.parse(value);
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
