/**
 * A small in-process backend for the endpoint's wire tests: a deployment registry and an invoker that satisfy the
 * endpoint's EndpointRegistry/EndpointInvoker (the local mesh's real ones run workers; their tests are elsewhere).
 * Functions are plain async handlers; alias weights use a seeded generator so counts are reproducible.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Endpoint, type SecretStore, startEndpoint } from '../../local/endpoint';
import type {
  AliasConfig,
  AliasInput,
  EndpointInvoker,
  EndpointRegistry,
  FunctionConfig,
  InvokeRequest,
  InvokeResult,
} from '../../local/endpoint/backend';
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
const ACCOUNT = '000000000000';

interface Fn {
  latest: FunctionConfig;
  handlers: Map<string, TestHandler>;
  versions: Map<string, FunctionConfig>;
  aliases: Map<string, AliasConfig>;
  /** reject every invocation with a throttle (reserved concurrency 0), with this Retry-After (s). */
  throttled?: number;
}

export class TestRegistry implements EndpointRegistry {
  readonly region = REGION;
  readonly accountId = ACCOUNT;
  readonly fns = new Map<string, Fn>();
  constructor(private readonly random: () => number = seeded(42)) {}

  /** Adds a function at $LATEST with this handler and environment. */
  add(name: string, handler: TestHandler, env: Record<string, string> = {}): void {
    this.fns.set(name, {
      latest: config(name, '$LATEST', env, handler),
      handlers: new Map([['$LATEST', handler]]),
      versions: new Map(),
      aliases: new Map(),
    });
  }

  /** Replaces $LATEST's code (a deploy), so the next publish makes a new version. */
  setCode(name: string, handler: TestHandler): void {
    const fn = this.fns.get(name)!;
    fn.handlers.set('$LATEST', handler);
    fn.latest = config(name, '$LATEST', fn.latest.Environment?.Variables ?? {}, handler);
  }

  setThrottled(name: string, on: boolean, retryAfterSeconds = 2): void {
    this.fns.get(name)!.throttled = on ? retryAfterSeconds : undefined;
  }

  handler(name: string, version: string): TestHandler | undefined {
    return this.fns.get(name)?.handlers.get(version);
  }
  /** Retry-After seconds while throttled, else undefined. */
  throttledFor(name: string): number | undefined {
    return this.fns.get(name)?.throttled;
  }

  listFunctions(): FunctionConfig[] {
    return [...this.fns.values()].map((f) => f.latest).sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
  }
  getFunction(name: string, qualifier?: string): FunctionConfig | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (!qualifier || qualifier === '$LATEST') return fn.latest;
    const alias = fn.aliases.get(qualifier);
    return fn.versions.get(alias ? alias.FunctionVersion : qualifier);
  }
  listVersions(name: string): FunctionConfig[] | undefined {
    const fn = this.fns.get(name);
    return fn && [fn.latest, ...fn.versions.values()];
  }
  publishVersion(name: string, input: { Description?: string }): FunctionConfig {
    const fn = this.fns.get(name)!;
    const last = [...fn.versions.values()].at(-1);
    if (last && last.CodeSha256 === fn.latest.CodeSha256) return last;
    const version = String(fn.versions.size + 1);
    const c: FunctionConfig = {
      ...fn.latest,
      Version: version,
      FunctionArn: `${fn.latest.FunctionArn}:${version}`,
      Description: input.Description ?? '',
    };
    fn.versions.set(version, c);
    fn.handlers.set(version, fn.handlers.get('$LATEST')!);
    return c;
  }
  getAlias(name: string, alias: string): AliasConfig | undefined {
    return this.fns.get(name)?.aliases.get(alias);
  }
  listAliases(name: string): AliasConfig[] | undefined {
    const fn = this.fns.get(name);
    return fn && [...fn.aliases.values()];
  }
  createAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const a: AliasConfig = {
      AliasArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}:${alias}`,
      Name: alias,
      FunctionVersion: input.FunctionVersion!,
      Description: input.Description ?? '',
      ...(input.RoutingConfig?.AdditionalVersionWeights ? { RoutingConfig: input.RoutingConfig } : {}),
      RevisionId: randomUUID(),
    };
    this.fns.get(name)!.aliases.set(alias, a);
    return a;
  }
  updateAlias(name: string, alias: string, input: AliasInput): AliasConfig {
    const cur = this.fns.get(name)!.aliases.get(alias)!;
    const weights = input.RoutingConfig?.AdditionalVersionWeights;
    const a: AliasConfig = {
      AliasArn: cur.AliasArn,
      Name: alias,
      FunctionVersion: input.FunctionVersion ?? cur.FunctionVersion,
      Description: input.Description ?? cur.Description,
      ...(weights && Object.keys(weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: weights } } : {}),
      RevisionId: randomUUID(),
    };
    this.fns.get(name)!.aliases.set(alias, a);
    return a;
  }
  resolveVersion(name: string, qualifier?: string): string | undefined {
    const fn = this.fns.get(name);
    if (!fn) return undefined;
    if (!qualifier || qualifier === '$LATEST') return '$LATEST';
    if (fn.versions.has(qualifier)) return qualifier;
    const alias = fn.aliases.get(qualifier);
    if (!alias) return undefined;
    for (const [v, w] of Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {})) {
      if (this.random() < w) return v;
    }
    return alias.FunctionVersion;
  }
}

function config(name: string, version: string, env: Record<string, string>, handler: TestHandler): FunctionConfig {
  return {
    FunctionName: name,
    FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    Version: version,
    Runtime: 'nodejs20.x',
    Role: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    Handler: 'index.handler',
    Timeout: 3,
    MemorySize: 128,
    LastModified: '2024-01-01T00:00:00.000+0000',
    CodeSha256: createHash('sha256').update(handler.toString()).digest('base64'),
    Environment: { Variables: env },
    TracingConfig: { Mode: 'Active' },
  };
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

/** The endpoint on a free port over `secrets` and this backend, with a Secrets Manager client (real SDK). */
export async function startSecretsEndpoint(
  secrets: SecretStore,
  registry = new TestRegistry(),
): Promise<{ endpoint: Endpoint; sm: SecretsManagerClient; registry: TestRegistry }> {
  const endpoint = await startEndpoint({
    port: 0,
    registry,
    invoker: new TestInvoker(registry),
    secrets,
    log: () => undefined,
  });
  const sm = new SecretsManagerClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return { endpoint, sm, registry };
}
