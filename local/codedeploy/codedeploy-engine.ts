/**
 * The local mesh's CodeDeploy for Lambda: applications, deployment groups and configs as a deployment
 * applies them, and deployments that shift an alias the way CodeDeploy does:
 *   BeforeAllowTraffic (the hook is invoked, the deployment waits for its PutLifecycleEventHookExecutionStatus)
 *   -> AllowTraffic (each step of the config sets the alias's weight of the target version; the last moves
 *      the alias to it) -> AfterAllowTraffic (the same for its hook) -> Succeeded.
 * Throughout, the group's alarms are polled: one in ALARM stops the deployment and, as the group's
 * auto-rollback says, moves the alias back to the version it started from (a rollback deployment records
 * it). StopDeployment does the same on request; a failed hook fails the deployment before any traffic
 * moved. Time runs `speed` times faster than CodeDeploy's (intervals and hook time-outs), for demos.
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_LAMBDA_CONFIG,
  PREDEFINED_LAMBDA_CONFIGS,
  type TrafficRouting,
  type TrafficStep,
  trafficSteps,
} from '../../shared/deployment-config';
import { AwsError } from '../endpoint/errors';

export type DeploymentStatus = 'Created' | 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
export type LifecycleStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped';
export type LifecycleName = 'BeforeAllowTraffic' | 'AllowTraffic' | 'AfterAllowTraffic';

export interface DeploymentGroup {
  readonly applicationName: string;
  readonly name: string;
  readonly id: string;
  readonly configName: string;
  readonly serviceRoleArn?: string;
  readonly alarms: readonly string[];
  readonly alarmsEnabled: boolean;
  readonly ignorePollAlarmFailure: boolean;
  /** DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST. */
  readonly autoRollbackEvents: readonly string[];
}

export interface LifecycleEvent {
  readonly name: LifecycleName;
  status: LifecycleStatus;
  startTime?: number;
  endTime?: number;
  /** Why a hook failed: the hook's own message when it gave one. */
  diagnostics?: { errorCode: string; message: string };
}

/** What happened, in order, for status views: "10% to v2", "alarm X in ALARM", "rolled back to v1". */
export interface DeploymentNote {
  readonly at: number;
  readonly text: string;
}

export interface Deployment {
  readonly id: string;
  readonly applicationName: string;
  readonly groupName: string;
  readonly configName: string;
  readonly routing: TrafficRouting;
  readonly creator: string;
  readonly description?: string;
  readonly createTime: number;
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  readonly hooks: Readonly<Partial<Record<'BeforeAllowTraffic' | 'AfterAllowTraffic', string>>>;
  /** The steps in local time (intervals divided by the speed). */
  readonly steps: readonly TrafficStep[];
  status: DeploymentStatus;
  startTime?: number;
  completeTime?: number;
  /** The target version's share of the alias now. */
  weight: number;
  /** When AllowTraffic began (the steps count from here). */
  trafficStartedAt?: number;
  readonly events: LifecycleEvent[];
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  readonly notes: DeploymentNote[];
}

/** A Lambda AppSpec's one function resource and its hooks (CreateDeployment's AppSpecContent). */
export interface AppSpec {
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  readonly hooks: Partial<Record<'BeforeAllowTraffic' | 'AfterAllowTraffic', string>>;
}

export interface CodeDeployDeps {
  /** Sets the alias: `weights` are the additional versions' shares (empty = all to `functionVersion`). */
  setAlias(functionName: string, alias: string, functionVersion: string, weights: Record<string, number>): void;
  /**
   * Invokes a hook function with CodeDeploy's event; resolves with its result, or rejects with its
   * function error.
   */
  invokeHook(
    functionName: string,
    event: { DeploymentId: string; LifecycleEventHookExecutionId: string },
  ): Promise<unknown>;
  /**
   * Why the AppSpec's function, alias and versions cannot be shifted (CodeDeploy's error code and a
   * message), or undefined when they can; checked before any hook runs or any traffic moves.
   */
  targetProblem?(appSpec: AppSpec): { code: string; message: string } | undefined;
  /** An alarm's state now; undefined when there is no such alarm. */
  alarmState(name: string): 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | undefined;
  /** @default 1 */
  readonly speed?: number;
  readonly now?: () => number;
  /** Resolves after `ms`, or at once when `signal` aborts. @default a timer */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log?: (line: string) => void;
  readonly region?: string;
  readonly accountId?: string;
}

/** CodeDeploy waits up to an hour for a hook's status. */
const HOOK_TIMEOUT_MS = 60 * 60_000;
/** How often alarms are polled during a deployment (local time, before the speed). */
const ALARM_POLL_MS = 5_000;
const ACTIVE: ReadonlySet<DeploymentStatus> = new Set(['Created', 'InProgress']);

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

interface Running {
  readonly abort: AbortController;
  /** A StopDeployment or an alarm, once asked. */
  stop?: { rollback: boolean; code: string; message: string };
  hook?: { executionId: string; status?: 'Succeeded' | 'Failed'; wake(): void };
  readonly done: Promise<void>;
}

export class CodeDeployEngine {
  private readonly applications = new Map<string, { id: string; createTime: number }>();
  private readonly groups = new Map<string, DeploymentGroup>();
  private readonly configs = new Map<string, { routing: TrafficRouting; id: string; createTime: number }>();
  private readonly deployments = new Map<string, Deployment>();
  private readonly running = new Map<string, Running>();
  private readonly listeners: ((d: Deployment) => void)[] = [];
  /** How many times faster than CodeDeploy deployments run here. */
  readonly speed: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly deps: CodeDeployDeps) {
    this.speed = deps.speed ?? 1;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? defaultSleep;
  }

  // --- what a deployment of a template puts in place ---

  putApplication(name: string): void {
    if (!this.applications.has(name)) this.applications.set(name, { id: randomUUID(), createTime: this.now() });
  }

  putDeploymentConfig(name: string, routing: TrafficRouting): void {
    this.configs.set(name, { routing, id: this.configs.get(name)?.id ?? randomUUID(), createTime: this.now() });
  }

  putDeploymentGroup(group: Omit<DeploymentGroup, 'id'>): void {
    const key = groupKey(group.applicationName, group.name);
    this.groups.set(key, { ...group, id: this.groups.get(key)?.id ?? randomUUID() });
  }

  deleteDeploymentGroup(applicationName: string, name: string): void {
    this.groups.delete(groupKey(applicationName, name));
  }

  // --- the API ---

  application(name: string): { id: string; createTime: number } {
    const a = this.applications.get(name);
    if (!a) throw new AwsError('ApplicationDoesNotExistException', 400, `No application found for name: ${name}`);
    return a;
  }

  /** The applications' names, sorted (ListApplications). */
  applicationNames(): string[] {
    return [...this.applications.keys()].sort();
  }

  /** An application's deployment groups' names, sorted (ListDeploymentGroups). */
  groupNames(applicationName: string): string[] {
    this.application(applicationName);
    return [...this.groups.values()]
      .filter((g) => g.applicationName === applicationName)
      .map((g) => g.name)
      .sort();
  }

  group(applicationName: string, name: string): DeploymentGroup {
    this.application(applicationName);
    const g = this.groups.get(groupKey(applicationName, name));
    if (!g) {
      throw new AwsError('DeploymentGroupDoesNotExistException', 400, `No Deployment Group found for name: ${name}`);
    }
    return g;
  }

  config(name: string): { name: string; routing: TrafficRouting; id: string; createTime: number } {
    const own = this.configs.get(name);
    if (own) return { name, ...own };
    const predefined = PREDEFINED_LAMBDA_CONFIGS[name];
    if (predefined) return { name, routing: predefined, id: name, createTime: 0 };
    throw new AwsError(
      'DeploymentConfigDoesNotExistException',
      400,
      `No deployment configuration found for name: ${name}`,
    );
  }

  deployment(id: string): Deployment {
    if (!id) throw new AwsError('DeploymentIdRequiredException', 400, 'At least one deployment ID must be specified.');
    const d = this.deployments.get(id);
    if (!d) throw new AwsError('DeploymentDoesNotExistException', 400, `The deployment ${id} could not be found.`);
    return d;
  }

  /** Deployments, newest first, of a group or all, optionally only those in `statuses`. */
  list(filter: { applicationName?: string; groupName?: string; statuses?: readonly string[] } = {}): Deployment[] {
    return [...this.deployments.values()]
      .filter(
        (d) =>
          (!filter.applicationName || d.applicationName === filter.applicationName) &&
          (!filter.groupName || d.groupName === filter.groupName) &&
          (!filter.statuses?.length || filter.statuses.includes(d.status)),
      )
      .sort((a, b) => b.createTime - a.createTime);
  }

  /** CreateDeployment of an alias: refused while the group has one in progress, as CodeDeploy does. */
  create(input: {
    applicationName: string;
    groupName: string;
    appSpec: AppSpec;
    configName?: string;
    description?: string;
    creator?: string;
  }): Deployment {
    const group = this.group(input.applicationName, input.groupName);
    const busy = this.list({ applicationName: group.applicationName, groupName: group.name }).find((d) =>
      ACTIVE.has(d.status),
    );
    if (busy) {
      throw new AwsError(
        'DeploymentLimitExceededException',
        400,
        `The Deployment Group '${group.name}' already has an active Deployment '${busy.id}'`,
      );
    }
    const config = this.config(input.configName ?? group.configName ?? DEFAULT_LAMBDA_CONFIG);
    const steps = trafficSteps(config.routing).map((s) => ({ ...s, afterMs: s.afterMs / this.speed }));
    const { appSpec } = input;
    const events: LifecycleEvent[] = [];
    if (appSpec.hooks.BeforeAllowTraffic) events.push({ name: 'BeforeAllowTraffic', status: 'Pending' });
    events.push({ name: 'AllowTraffic', status: 'Pending' });
    if (appSpec.hooks.AfterAllowTraffic) events.push({ name: 'AfterAllowTraffic', status: 'Pending' });
    const d: Deployment = {
      id: newDeploymentId(),
      applicationName: group.applicationName,
      groupName: group.name,
      configName: config.name,
      routing: config.routing,
      creator: input.creator ?? 'user',
      ...(input.description ? { description: input.description } : {}),
      createTime: this.now(),
      functionName: appSpec.functionName,
      alias: appSpec.alias,
      currentVersion: appSpec.currentVersion,
      targetVersion: appSpec.targetVersion,
      hooks: appSpec.hooks,
      steps,
      status: 'Created',
      weight: 0,
      events,
      notes: [],
    };
    this.deployments.set(d.id, d);
    this.note(
      d,
      `created: ${appSpec.functionName}:${appSpec.alias} v${appSpec.currentVersion} -> v${appSpec.targetVersion} (${config.name})`,
    );
    const abort = new AbortController();
    const run: Running = { abort, done: Promise.resolve() };
    this.running.set(d.id, run);
    (run as { done: Promise<void> }).done = this.run(d, group, run).catch((err: unknown) => {
      this.deps.log?.(`deployment ${d.id} failed unexpectedly: ${(err as Error)?.stack ?? err}`);
      this.finish(d, 'Failed', { code: 'INTERNAL_ERROR', message: String((err as Error)?.message ?? err) }, false);
    });
    return d;
  }

  /** StopDeployment: stops one in progress; with `rollback` (default: the group's setting) moves the alias back. */
  stop(id: string, autoRollbackEnabled?: boolean): { status: string; statusMessage: string } {
    const d = this.deployment(id);
    const run = this.running.get(id);
    if (!run || !ACTIVE.has(d.status)) {
      throw new AwsError('DeploymentAlreadyCompletedException', 400, `The deployment ${id} has already completed.`);
    }
    const group = this.groups.get(groupKey(d.applicationName, d.groupName));
    const rollback = autoRollbackEnabled ?? group?.autoRollbackEvents.includes('DEPLOYMENT_STOP_ON_REQUEST') ?? false;
    run.stop ??= { rollback, code: 'MANUAL_STOP', message: 'The deployment was stopped by a StopDeployment request.' };
    run.abort.abort();
    return { status: 'Pending', statusMessage: `Stopping deployment ${id}${rollback ? ' and rolling back' : ''}` };
  }

  /** PutLifecycleEventHookExecutionStatus from a hook function. */
  putHookStatus(id: string, executionId: string, status: string): string {
    this.deployment(id);
    const hook = this.running.get(id)?.hook;
    if (!hook || hook.executionId !== executionId) {
      throw new AwsError(
        'InvalidLifecycleEventHookExecutionIdException',
        400,
        `The lifecycle event hook execution ID ${executionId} is not valid for deployment ${id}`,
      );
    }
    if (hook.status) {
      throw new AwsError(
        'LifecycleEventAlreadyCompletedException',
        400,
        `The lifecycle event ${executionId} has already completed.`,
      );
    }
    if (status !== 'Succeeded' && status !== 'Failed') {
      throw new AwsError(
        'InvalidLifecycleEventHookExecutionStatusException',
        400,
        `The status ${status} is not valid: only Succeeded and Failed`,
      );
    }
    hook.status = status;
    hook.wake();
    return executionId;
  }

  /** Resolves once the deployment has moved traffic to the target version, or ended. */
  async untilTraffic(id: string): Promise<Deployment> {
    const d = this.deployment(id);
    while (ACTIVE.has(d.status) && d.weight === 0) {
      await new Promise<void>((resolve) => {
        const listener = (x: Deployment) => {
          if (x.id !== id) return;
          this.off(listener);
          resolve();
        };
        this.onChange(listener);
      });
    }
    return d;
  }

  /** Resolves once the deployment has ended. */
  async untilDone(id: string): Promise<Deployment> {
    await this.running.get(id)?.done;
    return this.deployment(id);
  }

  onChange(listener: (d: Deployment) => void): void {
    this.listeners.push(listener);
  }

  off(listener: (d: Deployment) => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Stops every deployment in progress without rollback (the local mesh is stopping). */
  async close(): Promise<void> {
    for (const run of this.running.values()) {
      run.stop ??= { rollback: false, code: 'MANUAL_STOP', message: 'The local mesh stopped.' };
      run.abort.abort();
      run.hook?.wake();
    }
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  // --- the run ---

  private async run(d: Deployment, group: DeploymentGroup, run: Running): Promise<void> {
    d.status = 'InProgress';
    d.startTime = this.now();
    this.changed(d);
    // Lambda refuses an alias update to a version that is not there, and CodeDeploy fails the deployment.
    const problem = this.deps.targetProblem?.(d);
    if (problem) return this.finish(d, 'Failed', problem, false);
    if (!(await this.hook(d, group, run, 'BeforeAllowTraffic'))) return;
    const allow = d.events.find((e) => e.name === 'AllowTraffic')!;
    this.startEvent(d, allow);
    d.trafficStartedAt = this.now();
    for (let i = 0; i < d.steps.length; i++) {
      const step = d.steps[i]!;
      const wait = d.trafficStartedAt + step.afterMs - this.now();
      if (wait > 0 && !(await this.watch(d, group, run, wait))) return this.halt(d, run, allow);
      this.shift(d, step.weight);
    }
    this.endEvent(d, allow, 'Succeeded');
    if (!(await this.hook(d, group, run, 'AfterAllowTraffic'))) return;
    this.finish(d, 'Succeeded', undefined, false);
  }

  /** Runs a hook if the AppSpec names one; false when the deployment ended (failed or stopped). */
  private async hook(d: Deployment, group: DeploymentGroup, run: Running, name: LifecycleName): Promise<boolean> {
    const event = d.events.find((e) => e.name === name);
    const fn = d.hooks[name as keyof Deployment['hooks']];
    if (!event || !fn) return true;
    this.startEvent(d, event);
    const executionId = randomUUID();
    let wake = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    run.hook = { executionId, wake: () => wake() };
    let message: string | undefined;
    const invoked = this.deps
      .invokeHook(fn, { DeploymentId: d.id, LifecycleEventHookExecutionId: executionId })
      .then((result) => {
        const m = (result as { message?: unknown } | undefined)?.message;
        if (typeof m === 'string') message = m;
      })
      .catch((err: unknown) => {
        message = `the hook ${fn} failed: ${(err as Error)?.message ?? err}`;
        if (!run.hook?.status && run.hook) {
          run.hook.status = 'Failed';
          wake();
        }
      });
    const deadline = this.now() + HOOK_TIMEOUT_MS / this.speed;
    while (!run.hook.status && !run.stop && this.now() < deadline) {
      const watched = this.watch(d, group, run, Math.min(deadline - this.now(), this.pollMs()));
      await Promise.race([watched, woken]);
    }
    // The hook's own result (its message) arrives with its invocation, just after its status.
    const grace = new AbortController();
    await Promise.race([invoked, this.sleep(1_000, grace.signal)]);
    grace.abort();
    const status = run.hook.status;
    run.hook = undefined;
    if (run.stop) {
      this.endEvent(d, event, 'Failed');
      this.halt(d, run);
      return false;
    }
    if (status === 'Succeeded') {
      this.endEvent(d, event, 'Succeeded');
      this.note(d, `${name} hook succeeded${message ? `: ${message}` : ''}`);
      return true;
    }
    const why = message ?? (status ? `the hook ${fn} reported Failed` : `the hook ${fn} reported no status in time`);
    // Diagnostics' error codes (CodeDeploy API Reference): a hook that never reported timed out.
    event.diagnostics = { errorCode: status ? 'ScriptFailed' : 'ScriptTimedOut', message: why };
    this.endEvent(d, event, 'Failed');
    this.note(d, `${name} hook failed: ${why}`);
    this.finish(
      d,
      'Failed',
      { code: 'HOOK_EXECUTION_FAILURE', message: `The deployment failed because the ${name} hook failed: ${why}` },
      group.autoRollbackEvents.includes('DEPLOYMENT_FAILURE'),
    );
    return false;
  }

  /**
   * Waits `ms`, polling the group's alarms; true when the wait ran out, false when the deployment is to
   * stop (an alarm fired, or StopDeployment).
   */
  private async watch(d: Deployment, group: DeploymentGroup, run: Running, ms: number): Promise<boolean> {
    const until = this.now() + ms;
    for (;;) {
      if (run.stop) return false;
      const firing = this.firingAlarms(group);
      if (firing.length > 0) {
        run.stop = {
          rollback: group.autoRollbackEvents.includes('DEPLOYMENT_STOP_ON_ALARM'),
          code: 'ALARM_ACTIVE',
          message: `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${firing.join(', ')}>`,
        };
        this.note(d, `alarm ${firing.join(', ')} in ALARM: stopping`);
        return false;
      }
      const left = until - this.now();
      if (left <= 0) return true;
      await this.sleep(Math.min(left, this.pollMs()), run.abort.signal);
    }
  }

  private firingAlarms(group: DeploymentGroup): string[] {
    if (!group.alarmsEnabled) return [];
    return group.alarms.filter((a) => this.deps.alarmState(a) === 'ALARM');
  }

  private pollMs(): number {
    return Math.max(50, ALARM_POLL_MS / this.speed);
  }

  private shift(d: Deployment, weight: number): void {
    if (weight >= 1) this.deps.setAlias(d.functionName, d.alias, d.targetVersion, {});
    else this.deps.setAlias(d.functionName, d.alias, d.currentVersion, { [d.targetVersion]: weight });
    d.weight = weight;
    this.note(
      d,
      weight >= 1
        ? `all traffic to v${d.targetVersion}`
        : `${Math.round(weight * 1000) / 10}% to v${d.targetVersion}, the rest on v${d.currentVersion}`,
    );
  }

  /** Ends a deployment that an alarm or StopDeployment stopped. */
  private halt(d: Deployment, run: Running, open?: LifecycleEvent): void {
    const stop = run.stop ?? { rollback: false, code: 'MANUAL_STOP', message: 'stopped' };
    if (open && open.status === 'InProgress') this.endEvent(d, open, 'Failed');
    this.finish(d, 'Stopped', { code: stop.code, message: stop.message }, stop.rollback);
  }

  /** Ends the deployment; with `rollback`, moves the alias back and records the rollback deployment. */
  private finish(
    d: Deployment,
    status: DeploymentStatus,
    error: { code: string; message: string } | undefined,
    rollback: boolean,
  ): void {
    if (!ACTIVE.has(d.status)) return;
    for (const e of d.events) {
      if (e.status === 'Pending' || e.status === 'InProgress')
        e.status = status === 'Succeeded' ? 'Succeeded' : 'Skipped';
    }
    d.status = status;
    d.completeTime = this.now();
    if (error) d.errorInformation = error;
    this.running.delete(d.id);
    const took = ((d.completeTime - (d.startTime ?? d.createTime)) / 1000).toFixed(1);
    if (status === 'Succeeded') this.note(d, `succeeded in ${took} s: v${d.targetVersion} takes all traffic`);
    else this.note(d, `${status.toLowerCase()} after ${took} s (${error?.code})`);
    if (rollback) {
      const wasShifted = d.weight > 0;
      this.deps.setAlias(d.functionName, d.alias, d.currentVersion, {});
      d.weight = 0;
      const back: Deployment = {
        ...d,
        id: newDeploymentId(),
        creator: 'codeDeployRollback',
        createTime: this.now(),
        startTime: this.now(),
        completeTime: this.now(),
        status: 'Succeeded',
        currentVersion: d.targetVersion,
        targetVersion: d.currentVersion,
        hooks: {},
        events: [{ name: 'AllowTraffic', status: 'Succeeded', startTime: this.now(), endTime: this.now() }],
        errorInformation: undefined,
        rollbackInfo: { rollbackTriggeringDeploymentId: d.id },
        weight: 1,
        notes: [],
      };
      this.deployments.set(back.id, back);
      d.rollbackInfo = {
        rollbackDeploymentId: back.id,
        rollbackMessage: `Deployment ${d.id} was rolled back by ${back.id}: all traffic back on v${d.currentVersion}`,
      };
      this.note(d, `rolled back${wasShifted ? '' : ' (no traffic had moved)'}: all traffic on v${d.currentVersion}`);
    }
    this.changed(d);
  }

  private startEvent(d: Deployment, e: LifecycleEvent): void {
    e.status = 'InProgress';
    e.startTime = this.now();
    this.changed(d);
  }

  private endEvent(d: Deployment, e: LifecycleEvent, status: LifecycleStatus): void {
    e.status = status;
    e.endTime = this.now();
    this.changed(d);
  }

  private note(d: Deployment, text: string): void {
    d.notes.push({ at: this.now(), text });
    this.deps.log?.(`deployment ${d.id} (${d.groupName}): ${text}`);
    this.changed(d);
  }

  private changed(d: Deployment): void {
    for (const l of [...this.listeners]) l(d);
  }
}

function groupKey(application: string, group: string): string {
  return `${application}\u0000${group}`;
}

/** `d-` and nine upper-case letters and digits, as CodeDeploy names deployments. */
function newDeploymentId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomUUID().replace(/-/g, '');
  let id = 'd-';
  for (let i = 0; i < 9; i++) id += alphabet[Number.parseInt(bytes.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return id;
}

/**
 * The AppSpec of a Lambda deployment (JSON; YAML is CodeDeploy's other spelling, which the local mesh
 * does not read): one `AWS::Lambda::Function` resource with Name, Alias, CurrentVersion, TargetVersion,
 * and optional BeforeAllowTraffic / AfterAllowTraffic hooks.
 */
export function parseAppSpec(content: string): AppSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch {
    throw new AwsError(
      'InvalidRevisionException',
      400,
      'The AppSpec content is not JSON; the local mesh reads JSON AppSpec content only',
    );
  }
  const spec = raw as { Resources?: unknown; Hooks?: unknown };
  const resources = Array.isArray(spec.Resources) ? (spec.Resources as Record<string, unknown>[]) : [];
  const fns = resources.flatMap((r) => Object.values(r ?? {})) as {
    Type?: unknown;
    Properties?: Record<string, unknown>;
  }[];
  const fn = fns.find((r) => r?.Type === 'AWS::Lambda::Function');
  const p = fn?.Properties ?? {};
  for (const key of ['Name', 'Alias', 'CurrentVersion', 'TargetVersion']) {
    if (typeof p[key] !== 'string' || p[key] === '') {
      throw new AwsError(
        'InvalidRevisionException',
        400,
        `The AppSpec needs one AWS::Lambda::Function resource with ${key} (Name, Alias, CurrentVersion, TargetVersion)`,
      );
    }
  }
  const hooks: AppSpec['hooks'] = {};
  for (const h of Array.isArray(spec.Hooks) ? (spec.Hooks as Record<string, unknown>[]) : []) {
    for (const name of ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const) {
      if (typeof h?.[name] === 'string') hooks[name] = h[name] as string;
    }
  }
  return {
    functionName: p.Name as string,
    alias: p.Alias as string,
    currentVersion: p.CurrentVersion as string,
    targetVersion: p.TargetVersion as string,
    hooks,
  };
}
