/**
 * The local EventBridge: each region's buses (the `default` bus always, others from the templates'
 * AWS::Events::EventBus) and the rules on them (AWS::Events::Rule). An event put on a bus goes to every
 * target of every enabled rule on it whose pattern matches, in the shape of "Amazon EventBridge
 * events"; a function target gets it as an asynchronous invoke, once its resource policy lets
 * events.amazonaws.com invoke it for that rule, as Lambda checks it. A delivery that fails (no such
 * function, no permission, a refused invoke) goes to the target's dead-letter queue when it has one,
 * as EventBridge sends it there after its retries ("Using dead-letter queues to process undelivered
 * events in EventBridge"); otherwise it is logged and dropped.
 */
import { randomUUID } from 'node:crypto';
import { matchesPattern, type Pattern } from '../endpoint/event-pattern';
import { type RuleInput, targetPayload } from './rule-input';

export const DEFAULT_BUS = 'default';

/** The resource part of a rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` on another. */
export function ruleResource(busName: string, ruleName: string): string {
  return `rule/${busName === DEFAULT_BUS ? '' : `${busName}/`}${ruleName}`;
}

/** A bus's name, given its name or ARN (as a rule's EventBusName may be). */
export function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return DEFAULT_BUS;
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split(':event-bus/')[1] ?? nameOrArn) : nameOrArn;
}

export interface RuleTarget extends RuleInput {
  readonly id: string;
  readonly arn: string;
  /** The SQS queue undelivered events go to. */
  readonly deadLetterArn?: string;
}

export interface EventRule {
  readonly name: string;
  readonly busName: string;
  readonly pattern: Pattern;
  readonly enabled: boolean;
  readonly targets: readonly RuleTarget[];
  readonly description?: string;
}

/** One event as EventBridge hands it to targets. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface EventBusesDeps {
  readonly accountId: string;
  /** An asynchronous invoke of a function (ARN, possibly qualified); rejects when Lambda refuses it. */
  readonly invokeAsync: (functionArn: string, payload: string) => Promise<void>;
  /** Why events.amazonaws.com may not invoke the function for the rule, or undefined when it may. */
  readonly invokeRefusal: (functionArn: string, ruleArn: string) => string | undefined;
  /** Sends an undelivered event to a queue by ARN; rejects when there is none. */
  readonly deadLetter: (queueArn: string, body: string) => Promise<void>;
  readonly log: (line: string) => void;
}

export class EventBuses {
  /** `<region>\0<bus>` -> its rules by name. */
  private readonly buses = new Map<string, Map<string, EventRule>>();
  /** `<region>\0<bus>` -> when it was made; the default buses are as old as the local EventBridge. */
  private readonly created = new Map<string, Date>();
  private readonly started = new Date();

  constructor(private readonly deps: EventBusesDeps) {}

  get accountId(): string {
    return this.deps.accountId;
  }

  busArn(region: string, name: string): string {
    return `arn:aws:events:${region}:${this.deps.accountId}:event-bus/${name}`;
  }

  ruleArn(region: string, rule: Pick<EventRule, 'busName' | 'name'>): string {
    return `arn:aws:events:${region}:${this.deps.accountId}:${ruleResource(rule.busName, rule.name)}`;
  }

  putBus(region: string, name: string): void {
    if (this.buses.has(key(region, name))) return;
    this.buses.set(key(region, name), new Map());
    if (name !== DEFAULT_BUS) this.created.set(key(region, name), new Date());
  }

  /** When a bus that exists was made (DescribeEventBus' CreationTime; nothing modifies a bus locally). */
  createdAt(region: string, name: string): Date {
    return this.created.get(key(region, name)) ?? this.started;
  }

  hasBus(region: string, name: string): boolean {
    return name === DEFAULT_BUS || this.buses.has(key(region, name));
  }

  /** A rule, replacing the one of its name on its bus; the bus must exist. */
  putRule(region: string, rule: EventRule): void {
    if (!this.hasBus(region, rule.busName)) {
      throw new Error(`event bus ${rule.busName} does not exist in ${region}; declare it before its rule ${rule.name}`);
    }
    this.putBus(region, rule.busName);
    this.rulesOf(region, rule.busName).set(rule.name, rule);
  }

  removeRule(region: string, busName: string, name: string): void {
    this.buses.get(key(region, busName))?.delete(name);
  }

  rules(region: string, busName: string): readonly EventRule[] {
    return [...(this.buses.get(key(region, busName))?.values() ?? [])];
  }

  /** Delivers an event to the targets of the matching rules; resolves once every delivery was handed on. */
  async deliver(region: string, busName: string, event: BusEvent): Promise<void> {
    if (!this.hasBus(region, busName)) {
      return this.deps.log(
        `EventBridge event ${event.id} was put on bus ${busName} in ${region}, which does not exist; it is dropped, as EventBridge drops it`,
      );
    }
    const matched = this.rules(region, busName).filter((r) => r.enabled && matchesPattern(r.pattern, event));
    await Promise.all(
      matched.flatMap((rule) => rule.targets.map((t) => this.deliverTo(this.ruleArn(region, rule), t, event))),
    );
  }

  private async deliverTo(ruleArn: string, target: RuleTarget, event: BusEvent): Promise<void> {
    const payload = targetPayload(target, event);
    const refusal = this.deps.invokeRefusal(target.arn, ruleArn);
    try {
      if (refusal) throw new Error(refusal);
      await this.deps.invokeAsync(target.arn, payload);
    } catch (err) {
      await this.undelivered(ruleArn, target, payload, (err as Error).message);
    }
  }

  private async undelivered(ruleArn: string, target: RuleTarget, payload: string, why: string): Promise<void> {
    const line = `EventBridge rule ${ruleArn} could not deliver to ${target.arn}: ${why}`;
    if (!target.deadLetterArn)
      return this.deps.log(`${line}; the event is dropped (the target has no dead-letter queue)`);
    this.deps.log(`${line}; the event goes to ${target.deadLetterArn}`);
    await this.deps
      .deadLetter(target.deadLetterArn, payload)
      .catch((e: Error) => this.deps.log(`${line}: ${e.message}`));
  }

  private rulesOf(region: string, busName: string): Map<string, EventRule> {
    return this.buses.get(key(region, busName))!;
  }
}

/** A new event of an entry: its id, the time given (or now, to the second), the detail parsed. */
export function busEvent(
  entry: { source: string; detailType: string; detail: unknown; resources: readonly string[]; time?: Date },
  where: { region: string; account: string },
): BusEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.detailType,
    source: entry.source,
    account: where.account,
    time: (entry.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: entry.resources,
    detail: entry.detail,
  };
}

function key(region: string, bus: string): string {
  return `${region}\0${bus}`;
}
