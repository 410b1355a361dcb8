/**
 * Runs invocations on workers: one forked process per execution environment, one
 * invocation at a time per environment, warm environments reused, cold starts counted. Lambda's
 * behaviour at the edges: the function timeout kills the environment and reports Sandbox.Timedout; a
 * process that dies mid-invocation reports Runtime.ExitError (Runtime.OutOfMemory when its heap ran
 * out) and is replaced by the next cold start;
 * more concurrent invocations than the function's limit throw TooManyRequestsException (the endpoint
 * answers 429). Each invocation writes the Lambda service's function segment and feeds EMF lines.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ENV, EXTERNAL, META, SERVICE_NAME_PATTERN } from '../../shared/names';
import { formatTraceHeader, newSegmentId, type TraceContext } from '../../shared/trace-header';
import type { EndpointInvoker, InvokeRequest, InvokeResult } from '../endpoint/backend';
import type { SandboxCredentials } from '../endpoint/sandbox-credentials';
import type { FunctionRegistry, FunctionSpec } from '../registry/function-registry';
import type { LocalRegions } from '../registry/regions';
import { runtimeLogMessage } from '../telemetry/emf-parser';
import { untilDeadline } from './deadline-race';
import { logDestination, logEnvironment, logLevelFilter, logsJson } from './log-format';
import { layerNodePath, mergedOptDir, rewriteOpt, taskDir } from './opt-dir';
import { platformLines } from './platform-log';
import { nodeModulesChain, runtimeSdkDir } from './runtime-sdk';
import { serviceTrace } from './service-trace';
import { Worker, type WorkerOutcome } from './worker';

/** Where worker telemetry goes: the TelemetryStore (local/telemetry) satisfies it. */
export interface TelemetrySink {
  recordEmf(obj: unknown, ctx: { functionName: string; version: string }): unknown;
  recordSegment(doc: unknown): unknown;
}

export type InvocationOutcome = 'ok' | 'error' | 'timeout' | 'crash' | 'throttled';

/** One finished invocation, as the invoker saw it (the terminal view's fallback before EMF lands). */
export interface InvocationRecord {
  readonly requestId: string;
  readonly functionName: string;
  readonly version: string;
  /** Caller service from the mesh metadata, else `external`. */
  readonly source: string;
  /** The qualifier the caller named (an alias or a version), if any: Lambda's metrics count by it. */
  readonly qualifier?: string;
  readonly start: number;
  readonly durationMs: number;
  readonly outcome: InvocationOutcome;
  readonly cold: boolean;
  readonly initMs?: number;
}

export interface InvokerCounters {
  invocations: number;
  coldStarts: number;
  warmStarts: number;
  timeouts: number;
  crashes: number;
  throttles: number;
  functionErrors: number;
}

export interface LocalInvokerOptions {
  readonly registry: FunctionRegistry;
  /** Every region's registry, when the mesh serves more than `registry`'s region. */
  readonly regions?: LocalRegions;
  /** The local endpoint's URL (AWS_ENDPOINT_URL for workers); may be set later with setEndpointUrl. */
  readonly endpointUrl?: string;
  /** `host:port` of the X-Ray collector (AWS_XRAY_DAEMON_ADDRESS). */
  readonly xrayDaemonAddress?: string;
  readonly telemetry?: TelemetrySink;
  /** Concurrent executions per function when it reserves none. @default 10 */
  readonly concurrencyLimit?: number;
  /** Directory for merged /opt dirs. @default a new temp dir, removed on stop() */
  readonly workDir?: string;
  /** Every log event a worker prints (after EMF extraction): a console call's may hold newlines. */
  readonly onLog?: (functionName: string, version: string, line: string) => void;
  /**
   * The directories on NODE_PATH after the merged layers, standing in for the runtime's own node_modules.
   * @default a folder of links to the AWS SDK and its dependencies alone (runtime-sdk.ts)
   */
  readonly nodePath?: readonly string[];
  /** An environment idle this long is discarded, as Lambda reclaims idle ones. @default 10 min */
  readonly idleTimeoutMs?: number;
  /**
   * Each function's keys, of its execution role's session (sandbox-credentials.ts).
   * @default every sandbox signs with `test`
   */
  readonly credentials?: SandboxCredentials;
}

export const DEFAULT_CONCURRENCY_LIMIT = 10;
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
/**
 * The node_modules folders Node searches from this package (this repository's, or, installed, the
 * package manager's folders for the package's dependencies and the app's): the SDK Lambda's Node.js
 * runtime provides is taken from them (runtime-sdk.ts). Not the folder one SDK client resolves to: under
 * pnpm that is the client's own folder in the store, beside its dependencies and none of the other clients.
 */
const SDK_NODE_MODULES = nodeModulesChain(__dirname);

interface Pool {
  readonly key: string;
  readonly region: string;
  readonly functionName: string;
  readonly version: string;
  readonly fingerprint: string;
  readonly idle: Worker[];
  readonly all: Set<Worker>;
}

/** Lambda's throttle, in its words (recorded: "Rate Exceeded." alone); the limit shows in the telemetry. */
function throttled(reserved: boolean): Error {
  return Object.assign(new Error('Rate Exceeded.'), {
    name: 'TooManyRequestsException',
    reason: reserved ? 'ReservedFunctionConcurrentInvocationLimitExceeded' : 'ConcurrentInvocationLimitExceeded',
    retryAfterSeconds: 1,
  });
}

/**
 * The caller and trace header of the mesh metadata (`custom.mesh`) in a decoded client context, tolerant
 * of a JSON-string value. Anyone may send any JSON there (the aws CLI's `--client-context`), so a field
 * of another shape is no field, as the function's wrapper reads it: a `trc` that was no string ended
 * the Invoke in the trace parser, and a `src` that was no service name was shown as the caller.
 */
export function meshMetadataOf(clientContext: string | undefined): { src?: string; trc?: string } | undefined {
  if (!clientContext) return undefined;
  try {
    const cc = JSON.parse(clientContext) as { custom?: Record<string, unknown> };
    let m = cc?.custom?.[META.clientContextKey];
    if (typeof m === 'string') m = JSON.parse(m);
    if (!m || typeof m !== 'object') return undefined;
    const { src, trc } = m as Record<string, unknown>;
    return {
      src: typeof src === 'string' && SERVICE_NAME_PATTERN.test(src) ? src : undefined,
      trc: typeof trc === 'string' ? trc : undefined,
    };
  } catch {
    return undefined;
  }
}

/** What the invoker decided before running an invocation. */
interface Invocation {
  readonly source: string;
  readonly start: number;
  readonly trace: TraceContext;
  /** The function segment's id (the Lambda service's segment, written by the invoker). */
  readonly segmentId: string;
}

/**
 * Pure: a worker's outcome as Lambda reports it: the payload (Lambda's error shapes for a timeout or
 * a crashed runtime), the X-Amz-Function-Error value and the log lines Lambda adds.
 */
export function describeOutcome(
  outcome: WorkerOutcome,
  spec: Pick<FunctionSpec, 'timeout'>,
  id: string,
  end: number,
): {
  payload: string;
  functionError?: string;
  kind: Exclude<InvocationOutcome, 'throttled'>;
  lines: string[];
  /** The error type Lambda names a crash by, when it is not Runtime.ExitError. */
  errorType?: string;
} {
  switch (outcome.kind) {
    case 'result':
      return { payload: outcome.payload, kind: 'ok', lines: [] };
    case 'error':
    case 'initError':
      return { payload: JSON.stringify(outcome.error), functionError: 'Unhandled', kind: 'error', lines: [] };
    case 'exit': {
      if (outcome.signal === 'SIGALRM') {
        const secs = spec.timeout.toFixed(2);
        const payload = JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${id} Error: Task timed out after ${secs} seconds`,
        });
        const lines = [`${new Date(end).toISOString()} ${id} Task timed out after ${secs} seconds`];
        return { payload, functionError: 'Unhandled', kind: 'timeout', lines };
      }
      if (outcome.outOfMemory) return outOfMemory(id);
      const message = `RequestId: ${id} Error: ${exitReason(outcome.code, outcome.signal)}`;
      const payload = JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: message });
      // Lambda logs the message, then the error type on a line of its own.
      return { payload, functionError: 'Unhandled', kind: 'crash', lines: [message, 'Runtime.ExitError'] };
    }
  }
}

/**
 * An environment that ran out of memory, as Lambda answers one: Lambda stops the runtime when the
 * function's memory is used up and answers `Runtime.OutOfMemory`, the runtime ended by SIGKILL, with
 * the same two log lines as any runtime exit (as AWS answers are quoted; no recording). Locally the
 * limit is the V8 heap's (`--max-old-space-size`), which V8 ends by aborting the process: the answer
 * is Lambda's all the same.
 */
function outOfMemory(id: string): ReturnType<typeof describeOutcome> {
  const message = `RequestId: ${id} Error: ${exitReason(null, 'SIGKILL')}`;
  const payload = JSON.stringify({ errorType: OUT_OF_MEMORY, errorMessage: message });
  return {
    payload,
    functionError: 'Unhandled',
    kind: 'crash',
    lines: [message, OUT_OF_MEMORY],
    errorType: OUT_OF_MEMORY,
  };
}

const OUT_OF_MEMORY = 'Runtime.OutOfMemory';

/**
 * Lambda's words for a runtime that ended: a clean exit (status 0) gave no reason, as AWS answers a
 * handler that called sys.exit(0) (recorded); any other status or a signal is an error, the signal
 * named as Lambda's Go service names it (`signal: killed`), with `(core dumped)` after a signal whose
 * default action dumps core, as Lambda's environments do (their core size limit is 10 GiB, recorded:
 * test_runtime_ulimits; a crash in a native module reads `signal: segmentation fault (core dumped)`).
 */
function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) {
    const named = SIGNAL_NAMES[signal];
    return `Runtime exited with error: signal: ${named?.[0] ?? signal}${named?.[1] ? ' (core dumped)' : ''}`;
  }
  return code === 0 ? 'Runtime exited without providing a reason' : `Runtime exited with error: exit status ${code}`;
}

/** Go's names of Linux signals (syscall's signal table), and whether each one dumps core by default. */
const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, readonly [string, boolean]>> = {
  SIGHUP: ['hangup', false],
  SIGINT: ['interrupt', false],
  SIGQUIT: ['quit', true],
  SIGILL: ['illegal instruction', true],
  SIGTRAP: ['trace/breakpoint trap', true],
  SIGABRT: ['aborted', true],
  SIGBUS: ['bus error', true],
  SIGFPE: ['floating point exception', true],
  SIGKILL: ['killed', false],
  SIGUSR1: ['user defined signal 1', false],
  SIGSEGV: ['segmentation fault', true],
  SIGUSR2: ['user defined signal 2', false],
  SIGPIPE: ['broken pipe', false],
  SIGTERM: ['terminated', false],
  SIGSYS: ['bad system call', true],
  SIGXCPU: ['CPU time limit exceeded', true],
  SIGXFSZ: ['file size limit exceeded', true],
};

/**
 * What the environment used, for the REPORT line: what it said with its answer, else (a crash, a
 * timeout) its peak as last known, as Lambda reports Max Memory Used on every REPORT line; all of the
 * function's memory when it ran out of it, as Lambda reports an environment it stopped for that.
 */
function usedMemory(outcome: WorkerOutcome, worker: Worker, spec: FunctionSpec): { maxMemoryMb?: number } {
  if (outcome.kind === 'exit' && outcome.outOfMemory) return { maxMemoryMb: spec.memorySize };
  return { maxMemoryMb: ('maxMemoryMb' in outcome ? outcome.maxMemoryMb : undefined) ?? worker.maxMemoryMb };
}

/** The invocation's log as Lambda gives its tail: Lambda's own lines around the function's. */
function invocationLog(
  request: InvokeRequest,
  spec: FunctionSpec,
  worker: Worker,
  outcome: WorkerOutcome,
  ended: { result: ReturnType<typeof describeOutcome>; initMs?: number; start: number; end: number },
): string[] {
  const platform = platformLines(
    {
      requestId: request.requestId,
      version: request.version,
      functionArn: request.invokedFunctionArn.split(':').slice(0, 7).join(':'),
      durationMs: ended.end - ended.start,
      memorySizeMb: spec.memorySize,
      ...usedMemory(outcome, worker, spec),
      initMs: ended.initMs,
      outcome: ended.result.kind,
      errorType: ended.result.errorType,
    },
    logsJson(spec),
    ended,
  );
  return [...platform.start, ...worker.takeLog(), ...ended.result.lines, ...platform.end];
}

export class LocalInvoker implements EndpointInvoker {
  readonly counters: InvokerCounters = {
    invocations: 0,
    coldStarts: 0,
    warmStarts: 0,
    timeouts: 0,
    crashes: 0,
    throttles: 0,
    functionErrors: 0,
  };
  private readonly registry: FunctionRegistry;
  private readonly telemetry: TelemetrySink | undefined;
  private readonly limit: number;
  private readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private readonly pools = new Map<string, Pool>();
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly idleTimeoutMs: number;
  private readonly inFlight = new Map<string, number>();
  private readonly listeners: ((r: InvocationRecord) => void)[] = [];
  private endpointUrl: string | undefined;
  private xrayDaemonAddress: string | undefined;
  private stopped = false;

  constructor(private readonly options: LocalInvokerOptions) {
    this.registry = options.registry;
    this.telemetry = options.telemetry;
    this.limit = options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.endpointUrl = options.endpointUrl;
    this.xrayDaemonAddress = options.xrayDaemonAddress;
    this.ownsWorkDir = !options.workDir;
    this.workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'lambda-mesh-local-'));
    // A new $LATEST must not be served by environments of the old one.
    if (options.regions) options.regions.onChange((name, region) => void this.recycle(name, '$LATEST', region));
    else this.registry.onChange((name) => void this.recycle(name, '$LATEST'));
  }

  /** The registry of a request's region (the home registry when it names none). */
  private registryOf(region: string | undefined): FunctionRegistry {
    return region && this.options.regions ? this.options.regions.registry(region) : this.registry;
  }

  /** The endpoint is started after the invoker (it takes the invoker); new workers get this URL. */
  setEndpointUrl(url: string): void {
    this.endpointUrl = url;
  }

  setXrayDaemonAddress(address: string): void {
    this.xrayDaemonAddress = address;
  }

  onInvocation(listener: (r: InvocationRecord) => void): void {
    this.listeners.push(listener);
  }

  /** Live environments (for status views and tests). */
  workers(): { functionName: string; version: string; pid: number | undefined; busy: boolean; invocations: number }[] {
    return [...this.pools.values()].flatMap((p) =>
      [...p.all].map((w) => ({
        functionName: p.functionName,
        version: p.version,
        pid: w.pid,
        busy: w.busy,
        invocations: w.invocations,
      })),
    );
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (this.stopped) throw Object.assign(new Error('The local mesh is stopping.'), { name: 'ServiceException' });
    const registry = this.registryOf(request.region);
    const record = registry.getRecord(request.functionName, request.version);
    if (!record) {
      throw Object.assign(new Error(`Function not found: ${registry.arn(request.functionName, request.version)}`), {
        name: 'ResourceNotFoundException',
      });
    }
    const spec = record.spec;
    const name = request.functionName;
    // Reserved concurrency is the function's (PutFunctionConcurrency or the template), not a version's.
    const reservedConcurrency = registry.reservedConcurrency(name);
    const reserved = reservedConcurrency !== undefined;
    const limit = reservedConcurrency ?? this.limit;
    const flightKey = `${registry.region}\0${name}`;
    const running = this.inFlight.get(flightKey) ?? 0;
    const meta = meshMetadataOf(request.clientContext);
    const source = meta?.src ?? EXTERNAL;
    const start = Date.now();

    const trace = serviceTrace(request.traceHeader, meta?.trc, start);
    const segmentId = newSegmentId();

    if (running >= limit) {
      this.counters.throttles++;
      this.emit({
        requestId: request.requestId,
        functionName: name,
        version: request.version,
        source,
        qualifier: qualifierOf(request.invokedFunctionArn),
        start,
        durationMs: 0,
        outcome: 'throttled',
        cold: false,
      });
      if (trace.sampled) this.segment({ name, segmentId, trace, start, end: Date.now(), request, throttle: true });
      throw throttled(reserved);
    }
    this.inFlight.set(flightKey, running + 1);
    this.counters.invocations++;
    // The function's segment, in progress until the invocation ends: a trace whose call is still under
    // way shows it (so `mesh trace --last` never takes a half-arrived trace for a finished one).
    if (trace.sampled) this.segment({ name, segmentId, trace, start, request, inProgress: true });
    try {
      return await this.run(request, registry, spec, record.fingerprint, { source, start, trace, segmentId });
    } finally {
      const n = (this.inFlight.get(flightKey) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(flightKey);
      else this.inFlight.set(flightKey, n);
    }
  }

  private async run(
    request: InvokeRequest,
    registry: FunctionRegistry,
    spec: FunctionSpec,
    fingerprint: string,
    t: Invocation,
  ): Promise<InvokeResult> {
    const { functionName: name, version, requestId: id } = request;
    const pool = this.pool(registry.region, name, version, fingerprint);
    const { worker, cold } = this.acquire(pool, spec);
    worker.busy = true;
    worker.beginLog();
    const { outcome, initMs } = await this.execute(worker, request, spec, t);
    const end = Date.now();
    const result = describeOutcome(outcome, spec, id, end);
    if (result.kind === 'error') this.counters.functionErrors++;
    if (result.kind === 'crash') this.counters.crashes++;
    const duration = end - t.start;
    const lines = invocationLog(request, spec, worker, outcome, {
      result,
      initMs: cold ? initMs : undefined,
      start: t.start,
      end,
    });
    this.release(pool, worker, outcome, registry);
    if (t.trace.sampled) {
      const fault = result.functionError !== undefined;
      this.segment({
        name,
        segmentId: t.segmentId,
        trace: t.trace,
        start: t.start,
        end,
        request,
        version,
        fault,
        cold,
        errorBody: fault ? result.payload : undefined,
      });
    }
    this.emit({
      requestId: id,
      functionName: name,
      version,
      source: t.source,
      qualifier: qualifierOf(request.invokedFunctionArn),
      start: t.start,
      durationMs: duration,
      outcome: result.kind,
      cold,
      initMs: cold ? initMs : undefined,
    });
    return {
      payload: result.payload,
      functionError: result.functionError,
      executedVersion: version,
      logTail: request.logTail ? `${lines.join('\n')}\n` : undefined,
    };
  }

  /** A warm environment of the pool, or a new one (a cold start). */
  private acquire(pool: Pool, spec: FunctionSpec): { worker: Worker; cold: boolean } {
    let worker = pool.idle.pop();
    while (worker?.dead) worker = pool.idle.pop();
    if (worker) {
      clearTimeout(this.idleTimers.get(worker));
      this.counters.warmStarts++;
      return { worker, cold: false };
    }
    this.counters.coldStarts++;
    return { worker: this.spawn(pool, spec), cold: true };
  }

  /** Runs the invocation on the worker against the function's timeout, as Lambda does. */
  private async execute(
    worker: Worker,
    request: InvokeRequest,
    spec: FunctionSpec,
    t: Invocation,
  ): Promise<{ outcome: WorkerOutcome; initMs?: number }> {
    const ready = await worker.ready;
    const initMs = 'initMs' in ready ? ready.initMs : undefined;
    if ('exit' in ready) return { outcome: { kind: 'exit', ...ready.exit }, initMs };
    if ('error' in ready) return { outcome: { kind: 'initError', error: ready.error }, initMs };
    const deadlineMs = Date.now() + spec.timeout * 1000;
    const raced = await untilDeadline(
      worker.invoke({
        id: request.requestId,
        payload: request.payload.toString('utf8'),
        deadlineMs,
        invokedFunctionArn: request.invokedFunctionArn,
        clientContext: request.clientContext,
        // The function segment this invocation's subsegments hang under, with the decision made.
        traceId: formatTraceHeader({ root: t.trace.root, parent: t.segmentId, sampled: t.trace.sampled }),
      }),
      deadlineMs,
    );
    if (raced !== 'timeout') return { outcome: raced, initMs };
    // Lambda stops the environment at the deadline; nothing the handler does afterwards counts.
    await worker.kill();
    this.counters.timeouts++;
    return { outcome: { kind: 'exit', code: null, signal: 'SIGALRM' }, initMs };
  }

  /** Back to the pool, or gone: an environment that failed init, crashed or timed out is discarded. */
  private release(pool: Pool, worker: Worker, outcome: WorkerOutcome, registry: FunctionRegistry): void {
    worker.busy = false;
    worker.invocations++;
    // A version's configuration may have changed while this ran ($LATEST redeployed): retire the old one.
    const current = registry.getRecord(pool.functionName, pool.version)?.fingerprint === pool.fingerprint;
    const reusable = outcome.kind === 'result' || (outcome.kind === 'error' && !outcome.fatal);
    if (!reusable || !current || worker.dead || this.stopped || !pool.all.has(worker)) {
      pool.all.delete(worker);
      void worker.kill();
      return;
    }
    pool.idle.push(worker);
    this.idleTimers.set(
      worker,
      setTimeout(() => {
        const i = pool.idle.indexOf(worker);
        if (i < 0) return;
        pool.idle.splice(i, 1);
        pool.all.delete(worker);
        void worker.kill();
      }, this.idleTimeoutMs).unref(),
    );
  }

  private pool(region: string, functionName: string, version: string, fingerprint: string): Pool {
    const key = `${region}\0${functionName}\0${version}\0${fingerprint}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { key, region, functionName, version, fingerprint, idle: [], all: new Set() };
      this.pools.set(key, pool);
    }
    return pool;
  }

  private spawn(pool: Pool, spec: FunctionSpec): Worker {
    const env = this.environment(spec, pool.version, pool.region);
    const worker = new Worker({
      env,
      cwd: env.LAMBDA_TASK_ROOT,
      memorySize: spec.memorySize,
      keep: logLevelFilter(spec),
      onLine: (line) => this.line(pool.functionName, pool.version, line),
    });
    pool.all.add(worker);
    worker.child.once('exit', () => {
      clearTimeout(this.idleTimers.get(worker));
      this.idleTimers.delete(worker);
      pool.all.delete(worker);
      const i = pool.idle.indexOf(worker);
      if (i >= 0) pool.idle.splice(i, 1);
    });
    return worker;
  }

  /**
   * Lambda's environment (AWS Lambda Developer Guide, "Defined runtime environment variables") plus the
   * function's own variables, /opt rewritten.
   */
  environment(spec: FunctionSpec, version: string, region: string = this.registry.region): Record<string, string> {
    const opt = mergedOptDir(spec.layerDirs, this.workDir);
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    const task = taskDir(spec.codeDir, this.workDir);
    // Lambda's NODE_PATH ends with /var/task: a bare require of a folder of the code (`lib/util`) resolves.
    const nodePath = [
      ...layerNodePath(opt, spec.runtime),
      ...(this.options.nodePath ?? [runtimeSdkDir(SDK_NODE_MODULES, this.workDir)]),
      task,
    ];
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.environment)) own[k] = rewriteOpt(v, opt);
    const endpoint = this.endpointUrl ?? 'http://127.0.0.1:4566';
    return {
      PATH: `${join(opt, 'bin')}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      HOME: process.env.HOME ?? '/tmp',
      NODE_PATH: nodePath.join(delimiter),
      LD_LIBRARY_PATH: join(opt, 'lib'),
      ...own,
      _HANDLER: rewriteOpt(spec.handler, opt),
      LAMBDA_TASK_ROOT: task,
      LAMBDA_RUNTIME_DIR: __dirname,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      ...logDestination(spec, version, day, randomBytes(16).toString('hex')),
      ...logEnvironment(spec),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      ...(this.xrayDaemonAddress ? { AWS_XRAY_DAEMON_ADDRESS: this.xrayDaemonAddress } : {}),
      AWS_ENDPOINT_URL: endpoint,
      ...this.sandboxKeys(spec),
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
      // Local-only: Lambda's Node 20 is supported there; here the notice would flood every log.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
  }

  /** The function's role session as Lambda hands it over: key id, secret and session token. */
  private sandboxKeys(spec: FunctionSpec): Record<string, string> {
    const service = spec.environment[ENV.service];
    const policyTable = spec.environment[ENV.policyTable];
    const mesh = service && policyTable ? { service, policyTable } : undefined;
    const keys = this.options.credentials?.issue(spec.name, spec.role, this.registry.accountId, mesh);
    return {
      AWS_ACCESS_KEY_ID: keys?.accessKeyId ?? 'test',
      AWS_SECRET_ACCESS_KEY: keys?.secretAccessKey ?? 'test',
      AWS_SESSION_TOKEN: keys?.sessionToken ?? 'test',
    };
  }

  private line(functionName: string, version: string, event: string): void {
    // EMF: a log event that is one JSON object with an `_aws` directive as a whole, written as it is or
    // logged through console: never a line inside a console message (CloudWatch reads whole events).
    // A JSON-format console event that holds one in its `message` is no EMF object itself.
    const message = runtimeLogMessage(event);
    if (this.telemetry && message.startsWith('{') && message.includes('"_aws"')) {
      let obj: unknown;
      try {
        obj = JSON.parse(message);
      } catch {
        // not JSON as a whole: an ordinary log event
      }
      if (obj && typeof obj === 'object' && Object.hasOwn(obj, '_aws'))
        this.telemetry.recordEmf(obj, { functionName, version });
    }
    this.options.onLog?.(functionName, version, event);
  }

  private segment(s: {
    name: string;
    segmentId: string;
    trace: { root: string; parent?: string };
    start: number;
    /** Absent while in progress. */
    end?: number;
    inProgress?: boolean;
    request: InvokeRequest;
    version?: string;
    fault?: boolean;
    throttle?: boolean;
    errorBody?: string;
    cold?: boolean;
  }): void {
    if (!this.telemetry) return;
    let cause: unknown;
    if (s.errorBody) {
      try {
        const e = JSON.parse(s.errorBody) as { errorType?: string; errorMessage?: string };
        cause = { exceptions: [{ id: newSegmentId(), type: e.errorType, message: e.errorMessage }] };
      } catch {
        /* leave out */
      }
    }
    this.telemetry.recordSegment({
      name: s.name,
      id: s.segmentId,
      trace_id: s.trace.root,
      ...(s.trace.parent ? { parent_id: s.trace.parent } : {}),
      start_time: s.start / 1000,
      ...(s.inProgress || s.end === undefined ? { in_progress: true } : { end_time: s.end / 1000 }),
      origin: 'AWS::Lambda::Function',
      aws: {
        function_arn: s.request.invokedFunctionArn,
        resource_names: [s.name],
        account_id: this.registry.accountId,
        request_id: s.request.requestId,
      },
      annotations: { version: s.version ?? s.request.version, ...(s.cold !== undefined ? { cold_start: s.cold } : {}) },
      ...(s.throttle ? { throttle: true, error: true, http: { response: { status: 429 } } } : {}),
      ...(s.fault ? { fault: true } : {}),
      ...(cause ? { cause } : {}),
    });
  }

  private emit(r: InvocationRecord): void {
    for (const l of this.listeners) l(r);
  }

  /** Discards the idle environments of a function (all versions, or one). Busy ones finish first. */
  async recycle(functionName: string, version?: string, region: string = this.registry.region): Promise<void> {
    const kills: Promise<void>[] = [];
    for (const pool of this.pools.values()) {
      if (pool.region !== region || pool.functionName !== functionName) continue;
      if (version !== undefined && pool.version !== version) continue;
      for (const w of pool.idle.splice(0)) {
        pool.all.delete(w);
        kills.push(w.kill());
      }
    }
    await Promise.all(kills);
  }

  /** Kills every worker and waits for each process to exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    const all = [...this.pools.values()].flatMap((p) => [...p.all]);
    this.pools.clear();
    await Promise.all(all.map((w) => w.kill()));
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** The qualifier of an invoked ARN (`...:function:name:qualifier`), if it has one. */
function qualifierOf(invokedArn: string): string | undefined {
  return invokedArn.split(':')[7] || undefined;
}
