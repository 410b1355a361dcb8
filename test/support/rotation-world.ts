/**
 * A mesh's identities on a simulated clock, for rotation tests that span days without waiting for them:
 * the real issuer (deploy-time issuance, then the four rotation steps as Secrets Manager runs them) on
 * the local endpoint's Secrets Manager through the real SDK, and sandboxes that hold an identity the way
 * the runtime does (IdentityLoader over Identity, reading their secret on the wire). Every certificate,
 * token and check is real crypto; only time is simulated, and it moves only when the test moves it.
 *
 * Secrets Manager's side is modelled on what it documents: a rotation opens an AWSPENDING version and
 * runs the steps in order, stopping at the first failure (AWSPENDING stays); the next attempt of an
 * unfinished rotation runs again under the same token. Or it is the local endpoint's own: `schedule`
 * turns a secret's rotation schedule on as a deployment does, and the endpoint rotates it when due, on
 * the world's clock, by invoking the issuer as its rotation function. Reads the sandboxes start in the
 * background, and rotations, are awaited after each event, so a run is the same every time.
 */
import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  RotateSecretCommand,
  type RotationRulesType,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type CaSecret, parseCaSecret } from '../../functions/control/ca-issuer';
import { bootstrapIdentity } from '../../functions/control/identity-bootstrap';
import type { IssuerDeps } from '../../functions/control/issuer-secrets';
import { rotationStep } from '../../functions/control/rotation';
import { Identity, IdentityLoader, secretsManagerReader } from '../../functions/mesh/identity';
import type { Endpoint } from '../../local/endpoint';
import type { RotationTimer } from '../../local/endpoint/rotation-schedule';
import { PreviousRotationIncomplete, SecretStore } from '../../local/endpoint/secret-store';
import { IDENTITY } from '../../shared/names';
import { startSecretsEndpoint, TestRegistry } from '../integration/local-endpoint-fixture';

export const HOUR_MS = 3_600_000;
const ISSUER = 'shop-issuer';
const ISSUER_ARN = `arn:aws:lambda:us-east-1:000000000000:function:${ISSUER}`;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** One execution environment of a service's function: its identity as the runtime holds it. */
export interface Sandbox {
  readonly service: string;
  readonly label: string;
  readonly loader: IdentityLoader<Identity>;
  /** Takes traffic (a frozen or retired sandbox does not). */
  active: boolean;
}

/** A call that did not get through, with what the callee (or the caller) said. */
export interface Failure {
  readonly atH: number;
  readonly caller: string;
  readonly callee: string;
  readonly reason: string;
}

/** A step the endpoint invoked the issuer for, as a rotation function. */
export interface IssuerStep {
  readonly atH: number;
  readonly secret: string;
  readonly step: string;
  readonly token: string;
  readonly error?: string;
}

export interface RotationWorldOptions {
  /** Whether the endpoint runs the rotation schedules `schedule` turns on. @default true */
  readonly runSchedules?: boolean;
}

export class RotationWorld {
  readonly clock: { now: number };
  readonly store: SecretStore;
  readonly sandboxes: Sandbox[] = [];
  readonly failures: Failure[] = [];
  /** Rotation failures, as the issuer's log would show them. */
  readonly rotationErrors: { atH: number; secret: string; error: string }[] = [];
  /** Every step the endpoint invoked the issuer for (scheduled rotations, set-up checks). */
  readonly issuerSteps: IssuerStep[] = [];
  /** What the endpoint logged (rotation steps that failed, scheduled rotations to come again). */
  readonly endpointLog: string[] = [];
  /** Fails the issuer's next `step` of `secret` invoked through the endpoint (its invocation failed). */
  failNext: { secret: string; step: string } | undefined;
  calls = 0;
  private endpoint!: Endpoint;
  private sm!: SecretsManagerClient;
  private deps!: IssuerDeps;
  private env!: NodeJS.ProcessEnv;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly events: { at: number; seq: number; run: () => Promise<void> | void }[] = [];
  private seq = 0;

  constructor(
    readonly services: readonly string[],
    readonly start: number,
    private readonly options: RotationWorldOptions = {},
  ) {
    this.clock = { now: start };
    this.store = new SecretStore({
      now: () => this.clock.now,
      // A rotation the endpoint starts runs from a later turn, as by default, and is awaited by `settle`.
      rotationScheduler: (run) => void this.track(new Promise((r) => setImmediate(r)).then(run)),
    });
  }

  /** Hours since the start (what failures and errors are stamped with). */
  get hours(): number {
    return (this.clock.now - this.start) / HOUR_MS;
  }

  secretOf(service: string): string {
    return IDENTITY.secretName('shop', service);
  }

  get caName(): string {
    return IDENTITY.caSecretName('shop');
  }

  /** The mesh CA secret as it stands. */
  ca(): CaSecret {
    return parseCaSecret(this.store.get(this.caName).secretString ?? '')!;
  }

  /** The endpoint, the issuer's dependencies and the deploy-time issuance of the CA and every identity. */
  async deploy(): Promise<void> {
    this.store.set(this.caName, { secretString: JSON.stringify({ kind: 'ca', mesh: 'shop' }) });
    for (const s of this.services) {
      const placeholder = { kind: 'identity', spiffeId: `spiffe://shop/svc/${s}` };
      this.store.set(this.secretOf(s), { secretString: JSON.stringify(placeholder) });
    }
    const registry = new TestRegistry();
    registry.add(ISSUER, (event) =>
      this.issuerStep(event as { Step: string; SecretId: string; ClientRequestToken: string }),
    );
    ({ endpoint: this.endpoint, sm: this.sm } = await startSecretsEndpoint(this.store, registry, {
      log: (line) => this.endpointLog.push(line),
      rotationTimer: this.timer(),
    }));
    this.env = {
      AWS_ENDPOINT_URL: this.endpoint.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    this.deps = {
      client: this.sm,
      scope: { mesh: 'shop', caSecret: this.arn(this.caName), services: new Set(this.services) },
      now: () => this.clock.now,
    };
    await this.issueAtDeploy(this.caName, IDENTITY.resourceType.ca);
    for (const s of this.services) await this.issueAtDeploy(this.secretOf(s), IDENTITY.resourceType.identity, s);
  }

  async close(): Promise<void> {
    await this.settle();
    this.sm?.destroy();
    await this.endpoint?.close();
  }

  /** Runs `run` when the clock reaches `at` (events at one time run in the order they were added). */
  at(at: number, run: () => Promise<void> | void): void {
    this.add({ at, seq: this.seq++, run });
  }

  /**
   * Turns on `name`'s rotation schedule as a deployment does (RotateSecret with the issuer and `rules`,
   * RotateImmediately false: Secrets Manager's set-up check alone); the endpoint rotates it from then on.
   */
  async schedule(name: string, rules: RotationRulesType): Promise<void> {
    await this.sm.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: ISSUER_ARN,
        RotationRules: rules,
        RotateImmediately: false,
      }),
    );
    await this.settle();
  }

  /** CancelRotateSecret on the wire: the schedule stops. */
  async cancelSchedule(name: string): Promise<void> {
    await this.sm.send(new CancelRotateSecretCommand({ SecretId: name }));
  }

  /** DescribeSecret on the wire. */
  describe(name: string): Promise<DescribeSecretCommandOutput> {
    return this.sm.send(new DescribeSecretCommand({ SecretId: name }));
  }

  /** Secrets Manager's schedule: `name` rotates every `everyMs`, first at `first`, until `until`. */
  every(name: string, first: number, everyMs: number, until: number): void {
    for (let t = first; t <= until; t += everyMs) this.at(t, () => this.rotate(name).then(() => undefined));
  }

  /** Moves the clock to `until`, running each event at its time and the reads it started to their end. */
  async runUntil(until: number): Promise<void> {
    while (this.events.length > 0 && this.events[0]!.at <= until) {
      const e = this.events.shift()!;
      this.clock.now = Math.max(this.clock.now, e.at);
      await e.run();
      await this.settle();
    }
    this.clock.now = Math.max(this.clock.now, until);
  }

  /**
   * One rotation attempt as Secrets Manager makes it: a new AWSPENDING version, or the unfinished one
   * again; the steps in order until one fails (`stopAfter`: the steps after it never run, as when their
   * invocation failed). Resolves with the failure's message, or undefined when the rotation finished.
   */
  async rotate(name: string, stopAfter?: (typeof STEPS)[number]): Promise<string | undefined> {
    let token: string = randomUUID();
    try {
      this.store.beginRotation(name, { rotationLambdaArn: ISSUER_ARN, token });
    } catch (err) {
      if (!(err instanceof PreviousRotationIncomplete)) throw err;
      token = err.pendingVersionId;
    }
    for (const Step of STEPS) {
      try {
        await rotationStep({ Step, SecretId: this.arn(name), ClientRequestToken: token }, this.deps);
      } catch (err) {
        const error = (err as Error).message;
        this.rotationErrors.push({ atH: this.hours, secret: name, error });
        return error;
      }
      if (Step === stopAfter) return `stopped after ${Step}`;
    }
    this.store.markRotated(name, token);
    return undefined;
  }

  /** A new execution environment of `service`: it reads its secret now, as a cold start does. */
  async spawn(service: string, label: string): Promise<Sandbox> {
    const read = secretsManagerReader(this.secretOf(service), this.env);
    const tracked = () => this.track(read());
    const loader = new IdentityLoader(() => Identity.create({ read: tracked, now: () => this.clock.now }), {
      now: () => this.clock.now,
    });
    const sandbox: Sandbox = { service, label, loader, active: true };
    await loader.get();
    this.sandboxes.push(sandbox);
    return sandbox;
  }

  /** Every active sandbox calls every active sandbox of each other service once, as the runtime would. */
  async traffic(): Promise<void> {
    const active = this.sandboxes.filter((s) => s.active);
    for (const caller of active) {
      for (const callee of active) {
        if (callee.service !== caller.service) await this.call(caller, callee);
      }
    }
  }

  /** One call: the caller signs with its identity as it stands, the callee verifies with its own. */
  async call(caller: Sandbox, callee: Sandbox): Promise<void> {
    this.calls++;
    const fail = (reason: string) =>
      this.failures.push({ atH: this.hours, caller: caller.label, callee: callee.label, reason });
    const mine = await caller.loader.get();
    if (!('identity' in mine)) return void fail(`caller has no identity: ${mine.missing}`);
    const payload = JSON.stringify({ from: caller.label, to: callee.label, at: this.clock.now });
    const token = mine.identity.sign({ target: callee.service, payload });
    const theirs = await callee.loader.get();
    if (!('identity' in theirs)) return void fail(`callee has no identity: ${theirs.missing}`);
    const r = theirs.identity.verify({ token, source: caller.service, payload });
    if (!r.ok) fail(r.reason);
  }

  /** The reads sandboxes started in the background, to their end. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The endpoint's schedules wait on the world's events (or never fire, with `runSchedules: false`). */
  private timer(): RotationTimer {
    if (this.options.runSchedules === false) return { set: () => () => undefined };
    return {
      set: (run, ms) => {
        const event = { at: this.clock.now + ms, seq: this.seq++, run };
        this.add(event);
        return () => {
          const i = this.events.indexOf(event);
          if (i >= 0) this.events.splice(i, 1);
        };
      },
    };
  }

  private add(event: { at: number; seq: number; run: () => Promise<void> | void }): void {
    this.events.push(event);
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** The issuer as the endpoint invokes it: the real rotation step, each recorded, one made to fail on demand. */
  private async issuerStep(event: { Step: string; SecretId: string; ClientRequestToken: string }): Promise<void> {
    const secret = this.store.describe(event.SecretId).name;
    const record = { atH: this.hours, secret, step: event.Step, token: event.ClientRequestToken };
    if (this.failNext?.secret === secret && this.failNext.step === event.Step) {
      this.failNext = undefined;
      this.issuerSteps.push({ ...record, error: 'failed on purpose' });
      throw new Error(`${event.Step} of ${secret} failed on purpose`);
    }
    try {
      await rotationStep(event, this.deps);
      this.issuerSteps.push(record);
    } catch (err) {
      this.issuerSteps.push({ ...record, error: (err as Error).message });
      throw err;
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  private arn(name: string): string {
    return this.store.describe(name).arn;
  }

  private async issueAtDeploy(name: string, resourceType: string, service?: string): Promise<void> {
    await bootstrapIdentity(
      {
        RequestType: 'Create',
        ResourceType: resourceType,
        RequestId: randomUUID(),
        ResourceProperties: { SecretId: this.arn(name), ...(service ? { Service: service } : {}) },
      },
      this.deps,
    );
  }
}
