/**
 * A small in-process backend for the endpoint's wire tests: the real deployment registry
 * (FunctionRegistry) whose functions are plain async handlers instead of code directories, and an
 * invoker that runs them in-process (the local mesh's real invoker runs workers; its tests are
 * elsewhere). Alias weights use a seeded generator so counts are reproducible.
 */
import { createHash } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Endpoint, type EndpointOptions, type SecretStore, startEndpoint } from '../../local/endpoint';
import type { EndpointInvoker, InvokeRequest, InvokeResult } from '../../local/endpoint/backend';
import { FunctionRegistry, type FunctionSpec } from '../../local/registry/function-registry';
import { QueueStore } from '../../local/sqs/queue-store';
import { sqsJsonServices } from '../../local/sqs/sqs-api';
import { sqsQueryService } from '../../local/sqs/sqs-query';
import { clientConfig } from '../support/example-assembly';
import { loopbackClientConfig } from '../support/loopback-client';
import { seeded } from '../support/seeded-random';

export interface TestContext {
  functionVersion: string;
  invokedFunctionArn: string;
  awsRequestId: string;
  clientContext?: unknown;
  log(line: string): void;
}
export type TestHandler = (event: unknown, context: TestContext) => unknown | Promise<unknown>;

const REGION = 'us-east-1';

export class TestRegistry extends FunctionRegistry {
  /** Handlers by `<name>\0<code hash>`: a version runs the handler its code hash names. */
  private readonly handlers = new Map<string, TestHandler>();
  private readonly throttled = new Map<string, number>();

  constructor(
    random: () => number = seeded(42),
    options: { settle?: (run: () => void) => void; region?: string } = {},
  ) {
    super({ random, settle: options.settle, settleMs: 0, region: options.region });
  }

  /** Adds a function at $LATEST with this handler and environment (and any other settings of its spec). */
  add(name: string, handler: TestHandler, env: Record<string, string> = {}, more: Partial<FunctionSpec> = {}): void {
    this.putFunction({
      ...more,
      name,
      codeDir: `/nonexistent/${name}`,
      handler: 'index.handler',
      runtime: 'nodejs20.x',
      timeout: 3,
      memorySize: 128,
      environment: env,
      layerDirs: [],
      codeSha256: this.codeOf(name, handler),
    });
  }

  /** Replaces $LATEST's code (a deploy), so the next publish makes a new version. */
  setCode(name: string, handler: TestHandler): void {
    this.putFunction({ ...this.getSpec(name)!, codeSha256: this.codeOf(name, handler) });
  }

  setThrottled(name: string, on: boolean, retryAfterSeconds = 2): void {
    if (on) this.throttled.set(name, retryAfterSeconds);
    else this.throttled.delete(name);
  }

  handler(name: string, version: string): TestHandler | undefined {
    const spec = this.getSpec(name, version);
    return spec && this.handlers.get(`${name}\0${spec.codeSha256}`);
  }

  /** Takes a function out again (the endpoint itself deletes none). */
  remove(name: string): void {
    this.fns.delete(name);
  }

  /** Retry-After seconds while throttled, else undefined. */
  throttledFor(name: string): number | undefined {
    return this.throttled.get(name);
  }

  /** A code hash for this handler; two distinct handlers of one function never share one. */
  private codeOf(name: string, handler: TestHandler): string {
    const prefix = createHash('sha256').update(handler.toString()).digest('base64');
    let n = 0;
    let code = prefix;
    while (this.handlers.has(`${name}\0${code}`) && this.handlers.get(`${name}\0${code}`) !== handler)
      code = `${prefix}-${++n}`;
    this.handlers.set(`${name}\0${code}`, handler);
    return code;
  }
}

/** Runs handlers in-process, like a warm worker would. */
export class TestInvoker implements EndpointInvoker {
  readonly calls: InvokeRequest[] = [];
  constructor(private readonly registry: TestRegistry) {}

  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    this.calls.push(req);
    const retryAfterSeconds = this.registry.throttledFor(req.functionName);
    if (retryAfterSeconds !== undefined) {
      throw Object.assign(new Error('Rate Exceeded.'), {
        name: 'TooManyRequestsException',
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        retryAfterSeconds,
      });
    }
    const handler = this.registry.handler(req.functionName, req.version)!;
    const lines: string[] = [`START RequestId: ${req.requestId} Version: ${req.version}`];
    const context: TestContext = {
      functionVersion: req.version,
      invokedFunctionArn: req.invokedFunctionArn,
      awsRequestId: req.requestId,
      clientContext: req.clientContext !== undefined ? JSON.parse(req.clientContext) : undefined,
      log: (line) => lines.push(line),
    };
    try {
      const out = await handler(JSON.parse(req.payload.toString('utf8')), context);
      lines.push(`END RequestId: ${req.requestId}`);
      return {
        payload: Buffer.from(JSON.stringify(out ?? null)),
        executedVersion: req.version,
        logTail: lines.join('\n'),
      };
    } catch (err) {
      const e = err as Error;
      return {
        payload: Buffer.from(
          JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: String(e.stack).split('\n') }),
        ),
        functionError: 'Unhandled',
        executedVersion: req.version,
        logTail: lines.join('\n'),
      };
    }
  }
}

/**
 * The endpoint on a free port over `secrets` and this backend, with a Secrets Manager client (real SDK).
 * `more` adds endpoint options (its log, the timer of its rotation schedules).
 */
export async function startSecretsEndpoint(
  secrets: SecretStore,
  registry = new TestRegistry(),
  more: Partial<EndpointOptions> = {},
): Promise<{ endpoint: Endpoint; sm: SecretsManagerClient; registry: TestRegistry }> {
  const endpoint = await startEndpoint({
    port: 0,
    registry,
    invoker: new TestInvoker(registry),
    secrets,
    log: () => undefined,
    ...more,
  });
  const sm = new SecretsManagerClient(loopbackClientConfig(endpoint.url, REGION));
  return { endpoint, sm, registry };
}

/**
 * The endpoint on a free port serving SQS (JSON and query protocols) over a fresh QueueStore, with an SQS
 * client (real SDK, JSON protocol).
 * `more` adds endpoint options that need the queues (Lambda's async destinations, say).
 */
export async function startSqsEndpoint(
  registry = new TestRegistry(),
  more: (queues: QueueStore) => Partial<EndpointOptions> = () => ({}),
): Promise<{ endpoint: Endpoint; sqs: SQSClient; queues: QueueStore; registry: TestRegistry }> {
  let url = '';
  const queues = new QueueStore({ region: REGION, accountId: '000000000000', endpointUrl: () => url });
  const endpoint = await startEndpoint({
    port: 0,
    registry,
    invoker: new TestInvoker(registry),
    jsonServices: sqsJsonServices(queues),
    queryServices: { sqs: sqsQueryService(queues) },
    log: () => undefined,
    ...more(queues),
  });
  url = endpoint.url;
  return { endpoint, sqs: new SQSClient(clientConfig(endpoint.url)), queues, registry };
}
