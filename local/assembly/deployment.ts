/**
 * Applies cloud assemblies to the local mesh as deployments, in order (contract 5): functions become
 * $LATEST, each `AWS::Lambda::Version` publishes (a new number only when code or configuration changed,
 * as Lambda), aliases get their version and routing weights, tables and secrets are created, and
 * `Custom::MeshPolicy` items are written to their table (contract 4) without touching operator items.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANAGED_BY, TABLE } from '../../shared/names';
import { parsePolicyItem } from '../../shared/policy';
import { marshallItem } from '../endpoint/dynamodb';
import type { FunctionRegistry, FunctionSpec } from '../registry/function-registry';
import { type AssemblyStack, readCloudAssembly, type TemplateResource } from './cloud-assembly';
import { Resolver, versionKey } from './intrinsics';

/** What a deployment writes data into (the endpoint's stores). Absent = that part is skipped. */
export interface DeploymentTargets {
  readonly registry: FunctionRegistry;
  /** DynamoDB endpoint URL (the local endpoint). */
  readonly dynamoEndpoint?: string;
  readonly secrets?: {
    create(input: { name: string; secretString?: string; description?: string }): unknown;
    put(secretId: string, input: { secretString?: string }): unknown;
    get(secretId: string): { secretString?: string };
    describe(secretId: string): { ARN?: string; arn?: string };
    /** Whether a secret of this name or ARN exists (with or without a current value). */
    has(secretId: string): boolean;
  };
  /** Where inline (ZipFile) code is written. */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

/** Carried from one deployment to the next. */
export interface DeploymentState {
  /** Policy items this mesh seeded, per table: `pk\0sk`. */
  readonly seeded: Map<string, Set<string>>;
  readonly tables: Set<string>;
}

export function newDeploymentState(): DeploymentState {
  return { seeded: new Map(), tables: new Set() };
}

export interface DeploymentReport {
  readonly dir: string;
  readonly functions: { name: string; changed: boolean }[];
  readonly versions: { functionName: string; version: string }[];
  readonly aliases: { functionName: string; name: string; version: string; weights: Record<string, number> }[];
  readonly tables: string[];
  readonly secrets: string[];
  readonly policyItems: number;
  readonly warnings: string[];
}

interface Located<T> {
  readonly stack: AssemblyStack;
  readonly id: string;
  readonly r: T;
}

export async function applyAssembly(
  dir: string,
  targets: DeploymentTargets,
  state: DeploymentState,
): Promise<DeploymentReport> {
  const stacks = readCloudAssembly(dir);
  const { registry } = targets;
  const versionNumbers = new Map<string, string>();
  const secretArns = new Map<string, string>();
  const resolver = new Resolver(stacks, {
    region: registry.region,
    accountId: registry.accountId,
    versionNumber: (k) => versionNumbers.get(k),
    secretArn: (name) => secretArns.get(name),
  });
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    targets.log(`warning: ${w}`);
  };
  const of = (type: string): Located<TemplateResource>[] =>
    stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources ?? {})
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => ({ stack, id, r })),
    );

  // Layers: ARN -> asset dir and content hash.
  const layers = new Map<string, { dir: string; hash: string }>();
  for (const { stack, id, r } of of('AWS::Lambda::LayerVersion')) {
    const code = assetOf(stack, r, 'Content');
    const arn = resolver.resolveString(stack, { Ref: id });
    if (code && arn) layers.set(arn, code);
    else warn(`layer ${stack.id}/${id} has no local asset directory; functions using it run without it`);
  }

  // Tables and secrets first: functions' environments name them.
  const tables: string[] = [];
  if (targets.dynamoEndpoint) {
    for (const { stack, id, r } of of('AWS::DynamoDB::Table')) {
      const name = resolver.physicalName(stack, id);
      await createTable(targets.dynamoEndpoint, name, r.Properties ?? {});
      state.tables.add(name);
      tables.push(name);
    }
  }
  const secrets: string[] = [];
  if (targets.secrets) {
    for (const { stack, id, r } of of('AWS::SecretsManager::Secret')) {
      const name = resolver.physicalName(stack, id);
      const p = r.Properties ?? {};
      const value =
        p.SecretString !== undefined
          ? resolver.resolveString(stack, p.SecretString)
          : generateSecret(p.GenerateSecretString);
      // Existence is the store's answer, not a failed read: a secret with no current value (a
      // placeholder) or a failed put must not fall into create (ResourceExistsException).
      if (targets.secrets.has(name)) {
        let current: string | undefined;
        try {
          current = targets.secrets.get(name).secretString;
        } catch {
          current = undefined;
        }
        // CloudFormation only writes a new value when the template's literal changed.
        if (p.SecretString !== undefined && value !== undefined && current !== value)
          targets.secrets.put(name, { secretString: value });
      } else {
        targets.secrets.create({
          name,
          secretString: value,
          description: resolver.resolveString(stack, p.Description),
        });
      }
      const d = targets.secrets.describe(name);
      const arn = d.ARN ?? d.arn;
      if (arn) secretArns.set(name, arn);
      secrets.push(name);
    }
  }

  // Functions -> $LATEST.
  const functions: { name: string; changed: boolean }[] = [];
  for (const { stack, id, r } of of('AWS::Lambda::Function')) {
    const p = r.Properties ?? {};
    const name = resolver.physicalName(stack, id);
    const runtime = resolver.resolveString(stack, p.Runtime) ?? '';
    if (!runtime.startsWith('nodejs')) {
      warn(
        `function ${name} (${stack.id}/${id}) has runtime ${runtime || 'none'}; the local mesh runs Node.js functions only, so it is left out`,
      );
      continue;
    }
    let code = assetOf(stack, r, 'Code');
    if (!code) {
      const zip = (p.Code as { ZipFile?: unknown } | undefined)?.ZipFile;
      const text = zip !== undefined ? resolver.resolveString(stack, zip) : undefined;
      if (text === undefined) {
        warn(`function ${name} has no local code (no asset directory and no inline code); it is left out`);
        continue;
      }
      const hash = createHash('sha256').update(text).digest('hex');
      const inlineDir = join(targets.workDir, `inline-${hash.slice(0, 16)}`);
      mkdirSync(inlineDir, { recursive: true });
      writeFileSync(join(inlineDir, 'index.js'), text);
      code = { dir: inlineDir, hash };
    }
    const environment: Record<string, string> = {};
    const vars = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    for (const [k, v] of Object.entries(vars)) {
      const s = resolver.resolveString(stack, v);
      if (s === undefined)
        warn(
          `function ${name}: environment variable ${k} has no local value (${JSON.stringify(v).slice(0, 120)}); left unset`,
        );
      else environment[k] = s;
    }
    const layerDirs: string[] = [];
    const layerArns: string[] = [];
    const layerHashes: string[] = [];
    for (const l of (p.Layers as unknown[] | undefined) ?? []) {
      const arn = resolver.resolveString(stack, l);
      const layer = arn ? layers.get(arn) : undefined;
      if (!arn || !layer) {
        warn(`function ${name}: layer ${arn ?? JSON.stringify(l)} is not in the assembly; left out`);
        continue;
      }
      layerDirs.push(layer.dir);
      layerArns.push(arn);
      layerHashes.push(layer.hash);
    }
    const reserved =
      p.ReservedConcurrentExecutions !== undefined
        ? Number(resolver.resolve(stack, p.ReservedConcurrentExecutions))
        : undefined;
    const spec: FunctionSpec = {
      name,
      codeDir: code.dir,
      handler: resolver.resolveString(stack, p.Handler) ?? 'index.handler',
      runtime,
      timeout: Number(resolver.resolve(stack, p.Timeout) ?? 3),
      memorySize: Number(resolver.resolve(stack, p.MemorySize) ?? 128),
      environment,
      layerDirs,
      layerArns,
      layerSha256s: layerHashes,
      role: resolver.resolveString(stack, p.Role),
      description: resolver.resolveString(stack, p.Description),
      reservedConcurrency: Number.isFinite(reserved) ? reserved : undefined,
      codeSha256: Buffer.from(code.hash.slice(0, 64), 'hex').toString('base64') || code.hash,
    };
    const { changed } = registry.putFunction(spec);
    functions.push({ name, changed });
  }

  // Versions: publish (unchanged code returns the existing number, as PublishVersion does).
  const versions: { functionName: string; version: string }[] = [];
  const currentVersion = new Map<string, string>();
  for (const { stack, id, r } of of('AWS::Lambda::Version')) {
    const fn = functionNameOf(resolver.resolveString(stack, r.Properties?.FunctionName));
    if (!fn || !registry.hasFunction(fn)) {
      warn(`version ${stack.id}/${id} names a function the local mesh does not run (${fn ?? 'unresolved'})`);
      continue;
    }
    const v = registry.publishVersion(fn, {
      Description: resolver.resolveString(stack, r.Properties?.Description),
    }).Version;
    versionNumbers.set(versionKey(stack, id), v);
    currentVersion.set(fn, v);
    versions.push({ functionName: fn, version: v });
  }

  // Aliases: version + weights; a literal version this mesh never published falls back to the current one.
  const aliases: DeploymentReport['aliases'] = [];
  for (const { stack, id, r } of of('AWS::Lambda::Alias')) {
    const p = r.Properties ?? {};
    const fn = functionNameOf(resolver.resolveString(stack, p.FunctionName));
    const aliasName = resolver.resolveString(stack, p.Name);
    if (!fn || !aliasName || !registry.hasFunction(fn)) {
      warn(`alias ${stack.id}/${id} names a function the local mesh does not run (${fn ?? 'unresolved'})`);
      continue;
    }
    const fallback = currentVersion.get(fn) ?? registry.latestPublished(fn) ?? '$LATEST';
    let version = resolver.resolveString(stack, p.FunctionVersion) ?? fallback;
    let fellBack = false;
    if (version !== '$LATEST' && !registry.getRecord(fn, version)) {
      warn(
        `alias ${fn}:${aliasName} points at version ${version}, which does not exist locally (apply the earlier release's assembly first); routing 100% to version ${fallback}`,
      );
      version = fallback;
      fellBack = true;
    }
    const weights: Record<string, number> = {};
    const routing =
      (p.RoutingConfig as { AdditionalVersionWeights?: unknown[] } | undefined)?.AdditionalVersionWeights ?? [];
    for (const w of fellBack ? [] : routing) {
      const entry = w as { FunctionVersion?: unknown; FunctionWeight?: unknown };
      const v = resolver.resolveString(stack, entry.FunctionVersion);
      const weight = Number(resolver.resolve(stack, entry.FunctionWeight));
      if (!v || !registry.getRecord(fn, v) || v === version) {
        warn(
          `alias ${fn}:${aliasName}: additional version ${v ?? 'unresolved'} is missing locally or equals the primary; weight ${weight} dropped`,
        );
        continue;
      }
      weights[v] = weight;
    }
    registry.putAlias(fn, aliasName, {
      FunctionVersion: version,
      Description: resolver.resolveString(stack, p.Description),
      RoutingConfig: Object.keys(weights).length > 0 ? { AdditionalVersionWeights: weights } : undefined,
    });
    aliases.push({ functionName: fn, name: aliasName, version, weights });
  }

  // Policy items (Custom::MeshPolicy): write this deploy's items, remove deploy items it no longer has.
  let policyItems = 0;
  if (targets.dynamoEndpoint) {
    const byTable = new Map<string, Record<string, unknown>[]>();
    for (const { stack, id, r } of of('Custom::MeshPolicy')) {
      const table = resolver.resolveString(stack, r.Properties?.TableName);
      const text = resolver.resolveString(stack, r.Properties?.Items);
      if (!table || text === undefined) {
        warn(`policy ${stack.id}/${id} has no resolvable TableName/Items; not seeded`);
        continue;
      }
      let items: unknown;
      try {
        items = JSON.parse(text);
      } catch (err) {
        warn(`policy ${stack.id}/${id}: Items is not JSON (${(err as Error).message}); not seeded`);
        continue;
      }
      for (const item of Array.isArray(items) ? items : []) {
        const parsed = parsePolicyItem(item);
        if (!parsed.ok) {
          warn(`policy ${stack.id}/${id}: ${parsed.error}; item skipped`);
          continue;
        }
        const list = byTable.get(table) ?? [];
        list.push({ ...(item as Record<string, unknown>), managedBy: MANAGED_BY.deploy });
        byTable.set(table, list);
      }
    }
    for (const [table, items] of byTable) {
      if (!state.tables.has(table)) {
        await createTable(targets.dynamoEndpoint, table, {});
        state.tables.add(table);
      }
      policyItems += await syncPolicyItems(
        targets.dynamoEndpoint,
        table,
        items,
        state.seeded.get(table) ?? new Set(),
        warn,
      );
      state.seeded.set(table, new Set(items.map(keyOf)));
    }
    // Tables whose policy resource disappeared lose their deploy items too.
    for (const [table, keys] of state.seeded) {
      if (byTable.has(table) || keys.size === 0) continue;
      await syncPolicyItems(targets.dynamoEndpoint, table, [], keys, warn);
      state.seeded.set(table, new Set());
    }
  }

  return { dir: resolve(dir), functions, versions, aliases, tables, secrets, policyItems, warnings };
}

/** A function reference (name or ARN, maybe qualified) -> its name. */
function functionNameOf(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const m = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(ref);
  return m ? m[1] : ref.split(':')[0];
}

/**
 * The staged asset directory of a Code/Content property: the `aws:asset:path` metadata (the CDK CLI
 * adds it) or the S3 key's hash looked up in the stack's asset manifest.
 */
function assetOf(
  stack: AssemblyStack,
  r: TemplateResource,
  prop: 'Code' | 'Content',
): { dir: string; hash: string } | undefined {
  const key = (r.Properties?.[prop] as { S3Key?: unknown } | undefined)?.S3Key;
  const hash = typeof key === 'string' ? key.replace(/\.zip$/, '') : undefined;
  const metaPath = r.Metadata?.['aws:asset:path'];
  const metaProp = r.Metadata?.['aws:asset:property'];
  if (typeof metaPath === 'string' && (metaProp === undefined || metaProp === prop)) {
    const dir = resolve(stack.dir, metaPath);
    if (existsSync(dir))
      return {
        dir,
        hash: hash ?? String(r.Metadata?.['aws:asset:hash'] ?? createHash('sha256').update(dir).digest('hex')),
      };
  }
  if (hash && stack.assets.has(hash)) {
    const dir = stack.assets.get(hash)!;
    if (existsSync(dir)) return { dir, hash };
  }
  return undefined;
}

function generateSecret(gen: unknown): string {
  const g = (gen ?? {}) as { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number };
  const value = createHash('sha256')
    .update(String(Math.random()))
    .digest('base64url')
    .slice(0, g.PasswordLength ?? 32);
  if (g.SecretStringTemplate && g.GenerateStringKey) {
    try {
      return JSON.stringify({ ...JSON.parse(g.SecretStringTemplate), [g.GenerateStringKey]: value });
    } catch {
      /* fall through */
    }
  }
  return value;
}

function keyOf(item: Record<string, unknown>): string {
  return `${String(item[TABLE.partitionKey])}\0${String(item[TABLE.sortKey])}`;
}

async function dynamo(endpoint: string) {
  const sdk = await import('@aws-sdk/client-dynamodb');
  const client = new sdk.DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { sdk, client };
}

async function createTable(endpoint: string, name: string, p: Record<string, unknown>): Promise<void> {
  const { sdk, client } = await dynamo(endpoint);
  try {
    const keySchema = (p.KeySchema as { AttributeName: string; KeyType: string }[] | undefined) ?? [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ];
    const attrs = (p.AttributeDefinitions as { AttributeName: string; AttributeType: string }[] | undefined) ?? [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' },
    ];
    try {
      await client.send(
        new sdk.CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keySchema as never,
          AttributeDefinitions: attrs as never,
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
    for (let i = 0; i < 500; i++) {
      const d = await client.send(new sdk.DescribeTableCommand({ TableName: name }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${name} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}

/**
 * Puts this deploy's items and deletes the deploy items it dropped, each under a condition that leaves
 * an item an operator has since taken over (managedBy = operator) alone, as the AWS custom resource does.
 */
async function syncPolicyItems(
  endpoint: string,
  table: string,
  items: readonly Record<string, unknown>[],
  previous: ReadonlySet<string>,
  warn: (w: string) => void,
): Promise<number> {
  const { sdk, client } = await dynamo(endpoint);
  const condition = {
    ConditionExpression: 'attribute_not_exists(#pk) OR #mb = :deploy',
    ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#mb': 'managedBy' },
    ExpressionAttributeValues: { ':deploy': { S: MANAGED_BY.deploy } },
  };
  let written = 0;
  try {
    const keep = new Set(items.map(keyOf));
    for (const item of items) {
      try {
        await client.send(
          new sdk.PutItemCommand({ TableName: table, Item: marshallItem(item) as never, ...condition }),
        );
        written++;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException')
          warn(
            `policy ${keyOf(item).replace('\0', '/')} in ${table} is operator-managed; the deploy's copy is not written`,
          );
        else throw err;
      }
    }
    for (const key of previous) {
      if (keep.has(key)) continue;
      const [pk, sk] = key.split('\0');
      try {
        await client.send(
          new sdk.DeleteItemCommand({
            TableName: table,
            Key: { [TABLE.partitionKey]: { S: pk }, [TABLE.sortKey]: { S: sk } },
            ConditionExpression: '#mb = :deploy',
            ExpressionAttributeNames: { '#mb': 'managedBy' },
            ExpressionAttributeValues: { ':deploy': { S: MANAGED_BY.deploy } },
          }),
        );
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
  } finally {
    client.destroy();
  }
  return written;
}
