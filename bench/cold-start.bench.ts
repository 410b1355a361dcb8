/**
 * What a user feels of the mesh in a new sandbox, against baselines measured in the same run: each
 * sample is a fresh Node process (bench/support/cold-process.js) that requires the handler's module
 * (init) and runs its first invocation, as Lambda's Node.js runtime does; mesh and baseline samples
 * alternate, so load from other processes on this machine falls on both alike. The mesh layer is the
 * one `cdk synth` of the example app (infra/app.ts) puts in cdk.out; handlers are bundled as
 * `MeshFunction` bundles them (esbuild, minified, @aws-sdk/* left to the runtime, which provides it).
 * Every AWS request goes to one loopback stand-in over HTTPS, as on AWS (bench/support/aws-stand-in.ts).
 *
 * Rows, with their budgets:
 * - cold start, inbound only: init + first invocation of a wrapped hello vs the bare hello (<= +5 ms);
 *   the same with a 50-service mesh's snapshot, and with the policy read from the table (reported);
 * - the floor of that read: a bare handler's one HTTPS POST on node:tls vs the bare hello (reported);
 * - cold start, one outbound call: `mesh.call()` vs the same handler calling InvokeCommand with
 *   @aws-sdk/client-lambda (the mesh >= 50 ms faster);
 * - the first call that needs an identity (Secrets Manager) and policy reads (DynamoDB) vs the SDK
 *   clients a user would load for the same requests (reported);
 * - RSS after 1,000 invocations, inbound only and with one call each (<= +10 MB); inbound without the
 *   read, and the floor of the read's TLS in memory (reported);
 * - layer size gzipped (<= 60 KB), minified bytes of the layer loaded per path (inbound only <= 40 KB);
 * - the policy snapshot read at init instead of at the first invocation (reported: kept only if cheaper);
 * - beside each cold-start row, the CPU time of the same samples (reported): on a machine whose cores are
 *   busy with other work, waiting for a core adds to the wall clock of the longer side.
 * Run: npx tsx bench/cold-start.bench.ts [--json]. Rows: { name, unit, n, mesh, baseline, budget? }.
 * BENCH_NODE=<path of a node binary> runs the samples, mesh and baselines alike, on that Node.js (for
 * one of the Lambda runtime's major version, e.g. 22 for nodejs22.x); the first row's note names it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { issueIdentity, rotateCa } from '../functions/control/ca-issuer';
import { LAYER, POLICY_VERSION } from '../shared/names';
import { sealSnapshot } from '../shared/snapshot-seal';
import { exampleAssemblies } from '../test/support/example-assembly';
import { startAwsStandIn } from './support/aws-stand-in';
import { type BenchResult, one, runBenchScript, stats } from './support/bench-rows';

const ROOT = join(__dirname, '..');
const HARNESS = join(__dirname, 'support', 'cold-process.js');

/** The mesh layer `cdk synth` of the example app put in cdk.out (the asset holding lambda-mesh). */
function synthesizedLayer(): string {
  const assembly = exampleAssemblies()?.release1;
  if (!assembly) throw new Error('bench: the example app (infra/app.ts) is needed to synthesize the layer');
  for (const name of readdirSync(assembly)) {
    const dir = join(assembly, name, LAYER.packageDir);
    if (name.startsWith('asset.') && statSync(join(assembly, name)).isDirectory()) {
      try {
        if (statSync(join(dir, 'wrapper.js')).isFile()) return join(assembly, name);
      } catch {
        // another asset
      }
    }
  }
  throw new Error(`bench: no mesh layer asset in ${assembly}`);
}

/** One small POST over node:tls to the stand-in, resolved on its status line: `post()`. */
const TLS_POST =
  "const tls = require('node:tls');\n" +
  'const post = () => new Promise((resolve, reject) => {\n' +
  // https://127.0.0.1:<port>, the stand-in's: no URL parser, which a first request would compile.
  "  const [hostname, port] = process.env.AWS_ENDPOINT_URL.slice('https://'.length).split(':');\n" +
  '  const body = \'{"TableName":"bench-policy","Key":{"pk":{"S":"orders"},"sk":{"S":"service"}}}\';\n' +
  '  const socket = tls.connect({ host: hostname, port: Number(port) }, () => socket.write(\n' +
  "    'POST / HTTP/1.1\\r\\nhost: ' + hostname + ':' + port + '\\r\\ncontent-type: application/x-amz-json-1.0\\r\\n' +\n" +
  "    'x-amz-target: DynamoDB_20120810.GetItem\\r\\ncontent-length: ' + body.length + '\\r\\n\\r\\n' + body));\n" +
  "  socket.once('error', reject).once('data', (d) => {\n" +
  '    socket.destroy();\n' +
  "    const status = d.toString('latin1', 0, 12);\n" +
  "    if (status === 'HTTP/1.1 200') resolve({ statusCode: 200 });\n" +
  "    else reject(new Error('the stand-in answered ' + status));\n" +
  '  });\n});\n';

/** The handlers' sources, by the file each is bundled to. */
const HANDLERS: Record<string, string> = {
  'hello.js':
    "exports.handler = async (event) => ({ statusCode: 200, body: 'hello ' + ((event && event.name) || 'world') });",
  // The floor of any read over TLS: one small POST and its answer on a socket of node:tls, with nothing
  // of the mesh (no signing, no parsing past the status line), to the same stand-in.
  'tls-floor.js': `${TLS_POST}exports.handler = post;`,
  // The same POST on the first invocation only, as the mesh reads its policy once a TTL: what that
  // read's TLS keeps in memory, under the memory row's.
  'tls-floor-once.js':
    `${TLS_POST}let posted = false;\n` +
    "exports.handler = (event) => posted ? Promise.resolve({ statusCode: 200, body: 'hello ' + ((event && event.name) || 'world') }) : (posted = true, post());",
  // The mesh's way: lambda-mesh/runtime comes from the layer.
  'call-mesh.js':
    "const { mesh } = require('lambda-mesh/runtime');\n" +
    "exports.handler = async (event) => mesh.call('payments', { order: event.n || 1 });",
  // The SDK's way, as the SDK's documentation writes it: the client made at init, reused.
  'call-sdk.js':
    "const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');\n" +
    'const lambda = new LambdaClient({ endpoint: process.env.AWS_ENDPOINT_URL });\n' +
    'exports.handler = async (event) => {\n' +
    "  const out = await lambda.send(new InvokeCommand({ FunctionName: 'bench-payments', Qualifier: 'live', Payload: JSON.stringify({ order: event.n || 1 }) }));\n" +
    '  return JSON.parse(Buffer.from(out.Payload).toString());\n};',
  // The same requests as the mesh's first identity-and-policy call, with the SDK clients.
  'first-call-sdk.js':
    "const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');\n" +
    "const { DynamoDBClient, QueryCommand } = require('@aws-sdk/client-dynamodb');\n" +
    "const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');\n" +
    'const endpoint = process.env.AWS_ENDPOINT_URL;\n' +
    'const sm = new SecretsManagerClient({ endpoint });\n' +
    'const ddb = new DynamoDBClient({ endpoint });\n' +
    'const lambda = new LambdaClient({ endpoint });\n' +
    'const query = (pk) => ddb.send(new QueryCommand({ TableName: process.env.MESH_POLICY_TABLE, ' +
    "KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, " +
    "ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true }));\n" +
    'exports.handler = async (event) => {\n' +
    "  const secret = await sm.send(new GetSecretValueCommand({ SecretId: 'bench/identity/orders' }));\n" +
    "  await query('orders');\n  await query('payments');\n" +
    "  const out = await lambda.send(new InvokeCommand({ FunctionName: 'bench-payments', Qualifier: 'live', Payload: JSON.stringify({ order: event.n || 1, k: secret.SecretString.length }) }));\n" +
    '  return JSON.parse(Buffer.from(out.Payload).toString());\n};',
};

/** The handlers, bundled as MeshFunction bundles a function's entry. */
function bundleHandlers(task: string): void {
  const esbuild = require('esbuild') as typeof import('esbuild');
  for (const [file, source] of Object.entries(HANDLERS)) {
    const src = join(task, `src-${file}`);
    writeFileSync(src, source);
    esbuild.buildSync({
      entryPoints: [src],
      outfile: join(task, file),
      bundle: true,
      minify: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      external: ['@aws-sdk/*', 'lambda-mesh', 'lambda-mesh/*'],
      logLevel: 'error',
    });
  }
}

interface Sample {
  initMs: number;
  firstMs: number;
  /** CPU time of init + first invocation (user + system). */
  cpuMs: number;
  rssMb: number;
  first: { result?: unknown; error?: string };
  layerBytes: number;
  files: string[];
}

/** A process to sample: the module Lambda's runtime would load, in the environment it would set. */
interface ColdProcess {
  readonly module: string;
  readonly env: Record<string, string | undefined>;
}

/** What a cold-start row adds beside its samples; `before` runs before each pair (default: a fresh snapshot). */
type RowExtra = Pick<BenchResult, 'budget' | 'note'> & { before?: () => void };

const POLICY_ITEMS = [
  { pk: 'orders', sk: 'service', functionName: 'bench-orders' },
  { pk: 'orders', sk: 'allow#external', source: 'external' },
  { pk: 'payments', sk: 'service', functionName: 'bench-payments' },
  { pk: 'payments', sk: 'allow#orders', source: 'orders' },
];

/**
 * The policy version as a deployed mesh's table holds it (shared/policy-version.ts): one item per shard,
 * each bucket's counter bumped once, as the seeder leaves it at deploy. A new sandbox reads one shard
 * before its first Query.
 */
const VERSION_ITEMS = Array.from({ length: POLICY_VERSION.shards }, (_, shard) => ({
  pk: POLICY_VERSION.partition(shard),
  sk: POLICY_VERSION.sortKey,
  ...Object.fromEntries(Array.from({ length: POLICY_VERSION.buckets }, (_, b) => [POLICY_VERSION.counter(b), 1])),
}));

/** A mesh of 50 more services, each with a service, an edge, a traffic and a route item: a snapshot of ~20 KB. */
const MESH_OF_50 = Array.from({ length: 50 }, (_, i) => [
  { pk: `svc-${i}`, sk: 'service', functionName: `bench-svc-${i}` },
  { pk: `svc-${i}`, sk: 'allow#orders', source: 'orders' },
  { pk: `svc-${i}`, sk: 'traffic', retries: { attempts: 3, budgetPercent: 20 }, timeoutMs: 2000 },
  { pk: `svc-${i}`, sk: 'route', weights: { stable: 90, canary: 10 } },
]).flat();

const RSS_RUNS = 3;

/** The Node.js the samples run on: BENCH_NODE, else the one running the bench. */
const SAMPLE_NODE = process.env.BENCH_NODE || process.execPath;

/** Its version, for the report. */
function sampleNodeVersion(): string {
  if (SAMPLE_NODE === process.execPath) return process.version;
  return execFileSync(SAMPLE_NODE, ['--version'], { encoding: 'utf8' }).trim();
}

/** The bench's sandbox: a task root of bundled handlers, the layer, a policy snapshot and the AWS stand-in. */
class ColdBench {
  /** Samples per side of a cold-start row. */
  readonly n = Number(process.env.BENCH_SAMPLES ?? 21);
  readonly rows: BenchResult[] = [];
  private readonly task: string;
  private readonly pkg: string;
  private readonly snapshot: string;
  private readonly lambdaEnv: Record<string, string | undefined>;

  static async start(): Promise<ColdBench> {
    const layer = synthesizedLayer();
    const dir = mkdtempSync(join(tmpdir(), 'mesh-cold-'));
    try {
      mkdirSync(join(dir, 'task'));
      bundleHandlers(join(dir, 'task'));
      const ca = await rotateCa('bench', undefined);
      const identity = await issueIdentity({ mesh: 'bench', service: 'orders', ca });
      // Every AWS endpoint is HTTPS: the stand-in too, its certificate from a CA the samples trust.
      const server = await issueIdentity({ mesh: 'bench', service: 'aws', ca, ipAddresses: ['127.0.0.1'] });
      writeFileSync(join(dir, 'ca.pem'), server.trustBundle.join('\n'));
      const aws = await startAwsStandIn({
        secrets: { 'bench/identity/orders': JSON.stringify(identity) },
        items: [...POLICY_ITEMS, ...VERSION_ITEMS],
        answer: (_fn, payload) => ({ paid: JSON.parse(payload || '{}').order ?? 0 }),
        tls: { cert: server.chain, key: server.privateKey },
      });
      return new ColdBench(dir, layer, aws);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private constructor(
    private readonly dir: string,
    layer: string,
    private readonly aws: Awaited<ReturnType<typeof startAwsStandIn>>,
  ) {
    this.pkg = join(layer, LAYER.packageDir);
    this.task = join(dir, 'task');
    this.snapshot = join(dir, 'policy.json');
    this.lambdaEnv = {
      PATH: process.env.PATH,
      // Lambda's NODE_PATH: the layer first, then where the runtime keeps the AWS SDK.
      NODE_PATH: `${join(layer, 'nodejs', 'node_modules')}:${join(ROOT, 'node_modules')}`,
      LAMBDA_TASK_ROOT: this.task,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'ASIABENCHKEY',
      AWS_SECRET_ACCESS_KEY: 'bench-secret',
      AWS_SESSION_TOKEN: 'bench-session-token',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-orders',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      AWS_ENDPOINT_URL: aws.url,
      // The stand-in's CA, added to each TLS connection's options by the harness (cold-process.js), not
      // through NODE_EXTRA_CA_CERTS: with that set, Node.js 20 builds its root store as the process
      // starts, before the measured window, where Lambda (which sets none from nodejs20.x on) builds it
      // at the first TLS connection, in the first request.
      BENCH_CA: join(dir, 'ca.pem'),
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      // Lambda sets the invocation's trace header whether or not tracing is active (not sampled here,
      // as with tracing in PassThrough mode and no caller's header); the wrapper parses it.
      _X_AMZN_TRACE_ID:
        'Root=1-674dbf7c-3f1c2b6a9e8d7c6b5a493827;Parent=5a1c3e7f9b2d4f60;Sampled=0;Lineage=1:2a3b4c5d:0',
    };
  }

  async close(): Promise<void> {
    await this.aws.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Fresh: younger than the policy cache's TTL, so the first request needs no table read. */
  readonly writeSnapshot = () => this.snapshotAt(new Date());

  /** Fresh, and the mesh's 50 other services in it too: what a first request reads of a larger mesh. */
  readonly writeMeshOf50 = () => this.snapshotAt(new Date(), MESH_OF_50);

  /** Older than the cache bound, as on AWS: a Query before the first decision. */
  readonly staleSnapshot = () => this.snapshotAt(new Date(0));

  private snapshotAt(generatedAt: Date, more: readonly object[] = []): void {
    // Sealed and written as synth writes them (shared/snapshot-seal.ts): the items synth checked.
    const items = [...POLICY_ITEMS, ...more];
    const snapshot = sealSnapshot({ mesh: 'bench', generatedAt: generatedAt.toISOString(), items });
    writeFileSync(this.snapshot, `${JSON.stringify(snapshot, null, 1)}\n`);
  }

  /** A handler of the task root as Lambda runs it without the mesh. */
  bare(file: string, extra: Record<string, string> = {}): ColdProcess {
    return {
      module: join(this.task, file),
      env: { ...this.lambdaEnv, _HANDLER: file.replace(/\.js$/, '.handler'), ...extra },
    };
  }

  /** The same handler behind the mesh layer's wrapper, as `MeshFunction` configures it. */
  wrapped(file: string, extra: Record<string, string> = {}): ColdProcess {
    return {
      module: join(this.pkg, 'wrapper.js'),
      env: {
        ...this.lambdaEnv,
        _HANDLER: join(this.pkg, 'wrapper.handler'),
        MESH_HANDLER: file.replace(/\.js$/, '.handler'),
        MESH_NAME: 'bench',
        MESH_SERVICE: 'orders',
        MESH_POLICY_SNAPSHOT: this.snapshot,
        ...extra,
      },
    };
  }

  /** One fresh process: init and the first invocation (or `BENCH_INVOCATIONS` of them), measured inside. */
  runOne(p: ColdProcess, extra: Record<string, string> = {}): Promise<Sample> {
    return new Promise<Sample>((resolve, reject) => {
      const child = spawn(SAMPLE_NODE, [HARNESS], {
        env: { ...p.env, BENCH_MODULE: p.module, BENCH_LAYER_DIR: this.pkg, ...extra } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) => {
        const line = stderr.split('\n').find((l) => l.startsWith('BENCH '));
        if (code !== 0 || !line)
          return reject(new Error(`bench: ${p.module} failed (exit ${code}): ${stderr.slice(-800)}`));
        const s = JSON.parse(line.slice(6)) as Sample;
        if (s.first.error)
          return reject(new Error(`bench: ${p.module}: the first invocation failed: ${s.first.error}`));
        resolve(s);
      });
    });
  }

  /** n samples of each side, alternating; `before` runs before each pair. */
  async pairs(n: number, mesh: ColdProcess, base: ColdProcess, extra: Record<string, string>, before: () => void) {
    const m: Sample[] = [];
    const b: Sample[] = [];
    for (let i = 0; i < n; i++) {
      before();
      m.push(await this.runOne(mesh, extra));
      b.push(await this.runOne(base, extra));
    }
    return { m, b };
  }

  /** One cold-start row (and its CPU row): init + first invocation of n fresh processes a side, alternating. */
  async coldRow(name: string, mesh: ColdProcess, base: ColdProcess, extra: RowExtra): Promise<Sample[]> {
    const { n } = this;
    const { m, b } = await this.pairs(n, mesh, base, {}, extra.before ?? this.writeSnapshot);
    const felt = (s: Sample[]) => s.map((x) => x.initMs + x.firstMs);
    const firstMs = stats(m.map((s) => s.firstMs)).p50;
    const note = `${extra.note}; mesh init ${stats(m.map((s) => s.initMs)).p50.toFixed(1)} + first ${firstMs.toFixed(1)} ms`;
    this.rows.push({ name, unit: 'ms', n, mesh: stats(felt(m)), baseline: stats(felt(b)), budget: extra.budget, note });
    // The same samples' CPU time: what the wall-clock row costs apart from waiting for a core, which a
    // machine busy with other work adds to the longer side (reported; the budget is on the row above).
    const cpu = (s: Sample[]) => stats(s.map((x) => x.cpuMs));
    this.rows.push({ name: `${name}, CPU time`, unit: 'ms', n, mesh: cpu(m), baseline: cpu(b) });
    return m;
  }

  /** RSS after 1,000 invocations in one process, a few runs a side; `budget` in MB added (none: reported). */
  async memoryRow(
    name: string,
    mesh: ColdProcess,
    base: ColdProcess,
    extra: Omit<RowExtra, 'budget'> & { budget?: number } = {},
  ) {
    const { before = this.writeSnapshot, budget, note } = extra;
    const { m, b } = await this.pairs(RSS_RUNS, mesh, base, { BENCH_INVOCATIONS: '1000' }, before);
    this.rows.push({
      name,
      unit: 'MB',
      n: RSS_RUNS,
      mesh: stats(m.map((s) => s.rssMb)),
      baseline: stats(b.map((s) => s.rssMb)),
      ...(budget !== undefined ? { budget: { of: 'added-p50', max: budget } } : {}),
      ...(note ? { note } : {}),
    });
  }

  /** The layer's size on disk, gzipped and minified. */
  layerSizeRow(): void {
    // Every file of the package: the aliases have no extension.
    const files = readdirSync(this.pkg);
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(join(this.pkg, f)), { level: 9 }).length, 0) / 1024;
    const minified = files.reduce((n, f) => n + statSync(join(this.pkg, f)).size, 0) / 1024;
    this.rows.push({
      name: 'layer size (gzipped, no SDK)',
      unit: 'KB',
      n: 1,
      mesh: one(gz),
      baseline: one(0),
      budget: { of: 'p50', max: 60 },
      note: `${files.length} files, ${minified.toFixed(1)} KB minified`,
    });
  }

  /** The layer's code one path loaded (from its first sample). */
  loadedRow(name: string, s: Sample, budget?: number): void {
    this.rows.push({
      name: `layer code loaded: ${name}`,
      unit: 'KB',
      n: 1,
      mesh: one(s.layerBytes / 1024),
      baseline: one(0),
      ...(budget !== undefined ? { budget: { of: 'p50', max: budget } } : {}),
      note: s.files.join(' '),
    });
  }
}

export async function runColdStartBench(): Promise<BenchResult[]> {
  const bench = await ColdBench.start();
  try {
    // Warm the file cache and the synthesized layer once, unmeasured.
    bench.writeSnapshot();
    await bench.runOne(bench.wrapped('hello.js'));
    await bench.runOne(bench.bare('call-sdk.js'));
    const loaded = await coldStartRows(bench);
    await memoryRows(bench);
    bench.layerSizeRow();
    bench.loadedRow('inbound only (as deployed: the policy read from the table)', loaded.inbound[0]!, 40);
    bench.loadedRow('inbound only, no policy read (a fresh snapshot)', loaded.inboundFresh[0]!);
    bench.loadedRow('one call', loaded.call[0]!);
    bench.loadedRow('one call with identity and policy reads', loaded.firstCall[0]!);
    return bench.rows;
  } finally {
    await bench.close();
  }
}

/**
 * A wrapped hello as `MeshFunction` deploys it: the mesh's policy table set, and the deploy-time snapshot
 * older than the policy cache's bound, as it is for every sandbox Lambda starts after the deploy. Its
 * first decision waits for the table (the version poll, then the service's Query): a deny holds on new
 * sandboxes too (docs/safety.md).
 */
const AS_DEPLOYED = { MESH_POLICY_TABLE: 'bench-policy' };

/**
 * The floor under the as-deployed row's policy read: a bare handler that sends one small POST over
 * node:tls to the same stand-in and reads its answer. Any read over TLS on a first request costs this
 * much at least, before the mesh signs or parses anything (reported).
 */
function floorRow(bench: ColdBench) {
  return bench.coldRow(
    'floor: one HTTPS POST from a fresh process (node:tls only, nothing of the mesh)',
    bench.bare('tls-floor.js'),
    bench.bare('hello.js'),
    {
      note:
        'vs the bare hello; loading node:tls, the handshake, one small POST and its answer, to the same stand-in: ' +
        'the least any read over TLS adds to a first request, before signing or parsing',
    },
  );
}

/**
 * RSS after 1,000 invocations. Beside the as-deployed rows (budget +10 MB): the same without the policy
 * read, and the floor of the read's TLS in memory (one HTTPS POST on the first invocation, nothing of
 * the mesh), both reported.
 */
async function memoryRows(bench: ColdBench) {
  const stale = bench.staleSnapshot;
  await bench.memoryRow(
    'RSS after 1,000 invocations, inbound only (as deployed)',
    bench.wrapped('hello.js', AS_DEPLOYED),
    bench.bare('hello.js'),
    { before: stale, budget: 10 },
  );
  await bench.memoryRow(
    'RSS after 1,000 invocations, inbound only, no policy read (a fresh snapshot)',
    bench.wrapped('hello.js'),
    bench.bare('hello.js'),
  );
  await bench.memoryRow(
    'RSS floor: one HTTPS POST on the first of 1,000 invocations (node:tls only, nothing of the mesh)',
    bench.bare('tls-floor-once.js'),
    bench.bare('hello.js'),
    { note: "vs the bare hello: what one exchange over TLS keeps in a process's memory (its secure context)" },
  );
  await bench.memoryRow(
    'RSS after 1,000 calls: mesh.call() vs SDK (as deployed)',
    bench.wrapped('call-mesh.js', AS_DEPLOYED),
    bench.bare('call-sdk.js'),
    { before: stale, budget: 10 },
  );
}

/** The cold-start rows; returns the mesh samples of the paths whose loaded layer code is reported. */
async function coldStartRows(bench: ColdBench) {
  const inbound = await bench.coldRow(
    'cold start, inbound only (as deployed: the policy read from the table)',
    bench.wrapped('hello.js', AS_DEPLOYED),
    bench.bare('hello.js'),
    {
      budget: { of: 'added-p50', max: 5 },
      before: bench.staleSnapshot,
      note:
        `vs the bare hello; the snapshot older than the cache bound, as on AWS: a version GetItem and a Query ` +
        `before the first decision, over HTTPS to a loopback stand-in; Node.js ${sampleNodeVersion()}`,
    },
  );
  await floorRow(bench);
  const inboundFresh = await bench.coldRow(
    'cold start, inbound only, no policy read (a fresh snapshot)',
    bench.wrapped('hello.js'),
    bench.bare('hello.js'),
    { note: "the mesh's own inbound check: a snapshot younger than the cache bound, which no deployed sandbox has" },
  );
  await bench.coldRow(
    "cold start, inbound only, no policy read, a 50-service mesh's snapshot",
    bench.wrapped('hello.js'),
    bench.bare('hello.js'),
    {
      before: bench.writeMeshOf50,
      note: "the same, the snapshot holding 50 more services' items: each service's seal is compared when it is first read",
    },
  );
  const call = await bench.coldRow(
    'cold start, one call: mesh.call() vs InvokeCommand (as deployed)',
    bench.wrapped('call-mesh.js', AS_DEPLOYED),
    bench.bare('call-sdk.js'),
    {
      budget: { of: 'added-p50', max: -50 },
      before: bench.staleSnapshot,
      note: "the mesh must be at least 50 ms faster; it reads both services' policy from the table first, the SDK side reads none",
    },
  );
  const firstCall = await bench.coldRow(
    'first call with identity + policy reads vs SDK clients',
    bench.wrapped('call-mesh.js', { MESH_POLICY_TABLE: 'bench-policy', MESH_IDENTITY_SECRET: 'bench/identity/orders' }),
    bench.bare('first-call-sdk.js', { MESH_POLICY_TABLE: 'bench-policy' }),
    {
      before: bench.staleSnapshot,
      note: 'GetSecretValue, Query x2, Invoke on both sides; the SDK side loads three clients',
    },
  );
  await bench.coldRow(
    'policy snapshot read at init instead of first request',
    bench.wrapped('hello.js', { BENCH_PRELOAD_POLICY: 'orders' }),
    bench.wrapped('hello.js'),
    { note: 'both wrapped, init + first invocation; kept at the first request unless this is cheaper' },
  );
  return { inbound, inboundFresh, call, firstCall };
}

if (require.main === module) {
  runBenchScript(
    runColdStartBench,
    (r) =>
      `${r.name.padEnd(56)} mesh p50 ${r.mesh.p50.toFixed(2)} p99 ${r.mesh.p99.toFixed(2)} baseline p50 ${r.baseline.p50.toFixed(2)} ${r.unit}${r.note ? `  (${r.note})` : ''}`,
  );
}
