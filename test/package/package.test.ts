/**
 * The package as a platform team installs it. `npm pack` this repository (prepack builds dist/ and
 * the prebuilt assets), check the tarball and the public API, then make a new CDK app in a temporary
 * folder outside the repository (`cdk init app --language typescript`), install the tarball offline,
 * write the README's stack and handlers into it, and use it: `npx mesh local` (which runs the app's
 * `cdk synth`, whose app command runs `tsc --noEmit` first), an SDK Invoke of the caller that reaches
 * the callee through the mesh, `npx mesh status`, and `lambda-mesh/runtime` in-process against the
 * local mesh.
 *
 * Steps that need nothing of each other overlap (the install beside the API check, the CommonJS type
 * check beside `npx mesh local`'s synth): each is a process of its own, and one waiting on another left
 * a core idle on a quiet machine.
 *
 * Runs offline: the app's lock file comes from this repository's (test/support/consumer-lock.ts), so
 * `npm ci --offline` takes every package from the npm cache this repository's `npm ci` filled.
 * Keep the app for a look: LAMBDA_MESH_KEEP_APP=1. Another CDK (needs the registry): for instance
 * LAMBDA_MESH_TEST_CDK="aws-cdk-lib@2.269.0 constructs@10.5.0", or LAMBDA_MESH_TEST_CDK=lowest for the
 * lowest versions the peer range in package.json allows (`npm run test:lowest-cdk`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import {
  appEnv,
  type Declarations,
  declarationsProgram,
  declaredMembers,
  explain,
  type PackResult,
  packRepository,
  prepareInstall,
  REPO,
  type RunningMesh,
  type RunResult,
  run,
  runAsync,
  startMeshLocal,
  writeFiles,
} from '../support/consumer-app';
import {
  forbiddenTarballPaths,
  missingTarballPaths,
  type ReadmeFile,
  readmeFiles,
  readmeMemberUses,
  runtimeModules,
  sdkModules,
  undeclaredUses,
} from '../support/package-checks';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const MAX_PACKED_BYTES = 1024 * 1024;

describe('lambda-mesh, packed and installed into a new CDK app', () => {
  let work = '';
  let app = '';
  let pack: PackResult;
  let packMs = 0;
  let local: RunningMesh | undefined;
  /** The packed declarations, as the API check's program reads them. */
  let built: Declarations | undefined;
  // LAMBDA_MESH_TEST_CDK="aws-cdk-lib@2.269.0 constructs@10.5.0": those versions, from the registry
  // (any of aws-cdk-lib, constructs, aws-cdk, typescript, tsx, @types/node).
  const otherCdk = cdkVersions(process.env.LAMBDA_MESH_TEST_CDK ?? '');
  const fromRegistry = Object.keys(otherCdk).length > 0;

  /** The app's install, started once the tarball is there: it runs beside the API check, which needs only dist/. */
  let installing: Promise<Install>;
  /** `npx mesh local`, started once the app is installed: it runs beside the CommonJS type check. */
  let serving: Promise<number> | undefined;

  before(() => {
    // Outside the repository: nothing above the app may resolve lambda-mesh but its node_modules.
    work = mkdtempSync(join(tmpdir(), 'lambda-mesh-consumer-'));
    app = join(work, 'shop');
    ({ pack, ms: packMs } = packRepository(work));
    // Two long steps that need nothing of each other run side by side: npm installs the app in child
    // processes while the API check (about 30 s of CPU, in this process) reads dist/.
    installing = installApp(app, pack, fromRegistry ? otherCdk : undefined);
  });
  after(async () => {
    await local?.stop();
    if (process.env.LAMBDA_MESH_KEEP_APP === '1') console.log(`kept ${app}`);
    else rmSync(work, { recursive: true, force: true });
  });

  it('packs dist/, the prebuilt assets, README and LICENSE, nothing of test/, bench/ or the example, under 1 MB', (t) => {
    const paths = pack.files.map((f) => f.path);
    assert.deepEqual(forbiddenTarballPaths(paths), [], 'files that must not ship');
    assert.deepEqual(missingTarballPaths(paths), [], 'files that must ship');
    assert.ok(pack.size < MAX_PACKED_BYTES, `packed ${pack.size} bytes, over ${MAX_PACKED_BYTES}`);
    const byFolder = new Map<string, number>();
    for (const f of pack.files) {
      const key = f.path
        .split('/')
        .slice(0, f.path.startsWith('dist/assets/') ? 3 : 2)
        .join('/');
      byFolder.set(key, (byFolder.get(key) ?? 0) + f.size);
    }
    const top = [...byFolder].sort((a, b) => b[1] - a[1]).slice(0, 5);
    t.diagnostic(
      `npm pack (prepack build included) ${packMs} ms; tarball: ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${pack.files.length} files; ` +
        `largest: ${top.map(([k, v]) => `${k} ${Math.round(v / 1024)} KB`).join(', ')}`,
    );
  });

  it('has the public API recorded in api/ (npm run api accepts a change)', () => {
    const { CompilerState, Extractor, ExtractorConfig } =
      require('@microsoft/api-extractor') as typeof import('@microsoft/api-extractor');
    const names = ['lambda-mesh', 'lambda-mesh-runtime'];
    const configs = names.map((name) =>
      ExtractorConfig.loadFileAndPrepare(join(REPO, 'api', `${name}.api-extractor.json`)),
    );
    // One program over both entry points (all of aws-cdk-lib's declarations, parsed once), which the
    // README's members are read from too.
    const compilerState = CompilerState.create(configs[0]!, {
      additionalEntryPoints: configs.slice(1).map((c) => c.mainEntryPointFilePath),
    });
    // api-extractor brings its own TypeScript: the program's nodes and flags are that version's.
    const ts = require(
      require.resolve('typescript', { paths: [require.resolve('@microsoft/api-extractor')] }),
    ) as typeof import('typescript');
    built = { ts, program: compilerState.program as import('typescript').Program, packageDir: REPO };
    for (const [i, name] of names.entries()) {
      const messages: string[] = [];
      const result = Extractor.invoke(configs[i]!, {
        localBuild: false,
        compilerState,
        messageCallback: (m) => {
          if (m.logLevel === 'error' || m.logLevel === 'warning') messages.push(m.text);
          m.handled = true;
        },
      });
      assert.ok(
        !result.apiReportChanged,
        `the public API of ${name} changed: compare api/${name}.api.md with dist/api-report/${name}.api.md, ` +
          'then record it with `npm run api` so the change shows in review',
      );
      assert.ok(result.succeeded, `api-extractor on ${name}: ${messages.join('\n')}`);
    }
  });

  it('installs offline into an app made by cdk init, and npm ls is clean', async (t) => {
    const { init, error, files, ci, ls } = await installing;
    assert.equal(init.status, 0, explain('cdk init', init));
    assert.equal(error, undefined);
    assert.deepEqual(
      files?.map((f) => f.path),
      ['lib/shop-stack.ts', 'lambda/orders.ts', 'lambda/payments.ts'],
      "the README's walkthrough files",
    );
    assert.ok(ci && ls);
    assert.equal(ci.status, 0, explain('npm ci --offline', ci));
    if (fromRegistry) t.diagnostic(`installed from the registry with ${JSON.stringify(otherCdk)}`);
    assert.equal(ls.status, 0, explain('npm ls --all', ls));
    t.diagnostic(`npm install: ${ci.ms} ms`);
  });

  it('type-checks the README files in an app on CommonJS with node10 module resolution, as older cdk init apps are', async () => {
    // `npx mesh local` (a test below) starts now and synthesizes beside this check: both only read the
    // installed app (this check writes nothing, noEmit), and each is a type check of its own.
    const started = Date.now();
    serving = startMeshLocal(app, ['--port', '0', '--quiet']).then((m) => {
      local = m;
      return Date.now() - started;
    });
    serving.catch(() => {}); // awaited, with its error, by the test of mesh local
    // cdk init wrote `"module": "commonjs"` and no moduleResolution (node10) before it moved to NodeNext;
    // node10 ignores `exports`, so `lambda-mesh/runtime` has types there only through `typesVersions`.
    const tsc = await runAsync(
      'npx',
      ['tsc', '--noEmit', '-p', '.', '--module', 'commonjs', '--moduleResolution', 'node10'],
      app,
    );
    assert.equal(tsc.status, 0, explain('tsc --module commonjs --moduleResolution node10', tsc));
  });

  it("declares in the published .d.ts every member the README uses: on the Mesh class, on the runtime's mesh", () => {
    const uses = readmeMemberUses(README);
    assert.ok(
      uses.some((u) => u.member === 'dashboard') && uses.some((u) => u.member === 'alarmsFor'),
      'the README shows the dashboard',
    );
    // The installed declarations are the packed dist/ byte for byte, so with this repository's CDK (the
    // lock's, which the app installed) they read as the API check's program read them. Another CDK: read
    // them where they are installed, against it.
    const installed = join(app, 'node_modules', 'lambda-mesh');
    const declarations = (dir: string) => fileDigest(join(dir, 'dist')).filter(([path]) => path.endsWith('.d.ts'));
    assert.deepEqual(declarations(installed), declarations(REPO), 'the installed declarations are the packed ones');
    const declared = declaredMembers(built && !fromRegistry ? built : declarationsProgram(installed));
    built = undefined; // a program holds most of a GB: every later collection would walk it
    assert.deepEqual(undeclaredUses(uses, declared), [], 'README members missing from the published types');
  });

  it('loads neither the AWS SDK nor the runtime when an app imports lambda-mesh', () => {
    const script = `
      require('lambda-mesh');
      const runtime = require.resolve('lambda-mesh/runtime');
      process.stdout.write(JSON.stringify({ loaded: Object.keys(require.cache), runtime }));`;
    const r = run(process.execPath, ['-e', script], app);
    assert.equal(r.status, 0, explain('node -e require("lambda-mesh")', r));
    const { loaded, runtime } = JSON.parse(r.stdout) as { loaded: string[]; runtime: string };
    assert.deepEqual(sdkModules(loaded), [], 'lambda-mesh must load no AWS SDK at import');
    assert.deepEqual(runtimeModules(loaded), [], 'lambda-mesh must load nothing of the runtime');
    // Outside Lambda the runtime is the package's own (dist/runtime.js loads the layer's bundle).
    assert.equal(relative(app, runtime), join('node_modules', 'lambda-mesh', 'dist', 'runtime.js'));
  });

  it('npx mesh local type-checks, synthesizes and serves the app: prebuilt layer, live aliases, IAM edge', async (t) => {
    // `npx mesh local` synthesizes with the app's own cdk.json and CLI (`npx cdk synth -q --output cdk.out`),
    // and cdk init's app command type-checks first (`npx tsc` with noEmit): a type error against the
    // packed declarations fails here.
    assert.match(JSON.parse(readFileSync(join(app, 'cdk.json'), 'utf8')).app, /^npx tsc && /);
    assert.equal(JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')).compilerOptions.noEmit, true);
    assert.ok(serving, 'npx mesh local was started');
    t.diagnostic(`npx mesh local: synthesized and serving in ${await serving} ms`);
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'ShopStack.template.json'), 'utf8'));
    const resources = Object.values(template.Resources) as CfnResource[];
    const layer = resources.find(
      (r) => r.Type === 'AWS::Lambda::LayerVersion' && r.Properties.LayerName === 'shop-mesh-runtime',
    );
    assert.ok(layer, 'the mesh layer');
    const aliases = resources.filter((r) => r.Type === 'AWS::Lambda::Alias').map((r) => r.Properties.Name);
    assert.deepEqual(aliases, ['live', 'live']);
    const invokes = resources
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Effect: string; Action: unknown }[] }).Statement)
      .filter((s) => s.Effect === 'Allow' && s.Action === 'lambda:InvokeFunction');
    assert.match(JSON.stringify(invokes), /:function:shop-payments:\*/, 'orders may invoke payments');
    assert.doesNotMatch(JSON.stringify(invokes), /:function:shop-orders:\*/, 'nobody declared an edge to orders');

    // The layer asset is the package's prebuilt one, byte for byte: synth built nothing of the mesh.
    const asset = join(app, 'cdk.out', layer.Metadata['aws:asset:path']);
    const prebuilt = join(app, 'node_modules', 'lambda-mesh', 'dist', 'assets', 'mesh-layer');
    assert.deepEqual(fileDigest(asset), fileDigest(prebuilt));
    // Its hash is its content's: this repository's Mesh, which builds the layer from source, gets the
    // same one. The hash changes when the runtime does, not with where or when it was built.
    const repoApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const repoStack = new Stack(repoApp, 'Repo');
    new Mesh(repoStack, 'Mesh', { meshName: 'shop' });
    const repoLayers = Template.fromStack(repoStack).findResources('AWS::Lambda::LayerVersion', {
      Properties: { LayerName: 'shop-mesh-runtime' },
    });
    assert.deepEqual(
      Object.values(repoLayers).map((l) => l.Properties.Content.S3Key),
      [layer.Properties.Content?.S3Key],
    );
    // The handler's bundle leaves the runtime to the layer.
    const orders = resources.find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'shop-orders',
    );
    const bundle = readFileSync(join(app, 'cdk.out', orders!.Metadata['aws:asset:path'], 'index.js'), 'utf8');
    assert.match(bundle, /require\("lambda-mesh\/runtime"\)/);
    assert.ok(bundle.length < 10_000, `the orders bundle is ${bundle.length} bytes: the runtime got bundled in`);
  });

  it('an SDK Invoke of orders reaches payments through the mesh', async () => {
    const lambda = new LambdaClient({
      endpoint: local!.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: 'shop-orders',
          Qualifier: 'live',
          Payload: Buffer.from(JSON.stringify({ sku: 'book', quantity: 2 })),
        }),
      );
      const body = JSON.parse(Buffer.from(out.Payload!).toString('utf8'));
      assert.equal(out.FunctionError, undefined, JSON.stringify(body));
      assert.deepEqual(body, { ok: true, sku: 'book', payment: { charged: 2500 } });
    } finally {
      lambda.destroy();
    }
    // The mesh saw the hop: payments' wrapper reported the edge orders -> payments.
    const stats = (await (await fetch(`${local!.url}/_mesh/stats?window=5m`)).json()) as {
      edges: { source: string; destination: string; requests: number; codes: Record<string, number> }[];
    };
    const edge = stats.edges.find((e) => e.source === 'orders' && e.destination === 'payments');
    assert.ok(edge, `no orders -> payments edge in ${JSON.stringify(stats.edges)}`);
    assert.equal(edge.codes['200'], 1);
  });

  it('answers npx mesh --version and npx mesh status against the local mesh', () => {
    const version = run('npx', ['mesh', '--version'], app);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
    const status = run('npx', ['mesh', 'status'], app, appEnv(localAws(local!.url)));
    assert.equal(status.status, 0, explain('npx mesh status', status));
    assert.match(status.stdout, /orders/);
    assert.match(status.stdout, /payments/);
  });

  it('runs lambda-mesh/runtime in-process against AWS_ENDPOINT_URL, as the function it stands for', () => {
    // The environment of shop-orders, as `aws lambda get-function-configuration` shows it.
    const script = `
      const { LambdaClient, GetFunctionConfigurationCommand } = require('@aws-sdk/client-lambda');
      const client = new LambdaClient({});
      client.send(new GetFunctionConfigurationCommand({ FunctionName: 'shop-orders' })).then(async (c) => {
        for (const [k, v] of Object.entries(c.Environment.Variables)) {
          if (/^MESH_(NAME|SERVICE|POLICY_TABLE|IDENTITY_SECRET)$/.test(k)) process.env[k] = v;
        }
        const { mesh } = require('lambda-mesh/runtime');
        const reply = await mesh.call('payments', { amountCents: 7 });
        process.stdout.write('\\nREPLY ' + JSON.stringify(reply) + '\\n'); // stdout also carries the EMF lines
        process.exit(0);
      }).catch((e) => { console.error(e); process.exit(1); });`;
    const r = run(process.execPath, ['-e', script], app, appEnv(localAws(local!.url)), 60_000);
    assert.equal(r.status, 0, explain('lambda-mesh/runtime in-process', r));
    const reply = r.stdout.split('\n').find((l) => l.startsWith('REPLY '));
    assert.ok(reply, explain('lambda-mesh/runtime in-process printed no reply', r));
    assert.deepEqual(JSON.parse(reply.slice('REPLY '.length)), { charged: 7 });
  });
});

/** What the app's install ran, each step's result; a step after one that failed did not run. */
interface Install {
  readonly init: RunResult;
  /** What went wrong between cdk init and npm install. */
  readonly error?: string;
  readonly files?: readonly ReadmeFile[];
  readonly ci?: RunResult;
  readonly ls?: RunResult;
}

/**
 * `cdk init app` in `app`, the README's files and the tarball's lock written into it, then `npm ci`
 * offline (`npm install` from the registry with `versions`) and `npm ls --all`. Never rejects. The steps
 * before npm's run here and now: a step that waits for the event loop to start would wait for the API
 * check, which holds it while npm installs.
 */
function installApp(app: string, pack: PackResult, versions?: Record<string, string>): Promise<Install> {
  mkdirSync(app);
  const cdk = join(REPO, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const init = run(process.execPath, [cdk, 'init', 'app', '--language', 'typescript', '--generate-only'], app);
  if (init.status !== 0) return Promise.resolve({ init });
  let files: ReadmeFile[];
  try {
    prepareInstall(app, `../${pack.filename}`, pack, versions);
    files = readmeFiles(README);
    writeFiles(app, files);
  } catch (err) {
    return Promise.resolve({ init, error: `writing the app's package.json, lock and README files: ${err}` });
  }
  return runAsync('npm', versions ? ['install', '--prefer-offline'] : ['ci', '--offline'], app).then(async (ci) =>
    ci.status !== 0 ? { init, files, ci } : { init, files, ci, ls: await runAsync('npm', ['ls', '--all'], app) },
  );
}

/** A resource of a synthesized template, as far as these checks read it. */
interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown> & {
    readonly LayerName?: string;
    readonly Name?: string;
    readonly Content?: { readonly S3Key: string };
  };
  readonly Metadata: Record<string, string>;
}

/** The environment of an AWS client pointed at the local mesh. */
function localAws(url: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}

/** Every file under `dir` with its size and content, relative paths sorted: two equal trees compare equal. */
function fileDigest(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([relative(dir, p), readFileSync(p, 'base64')]);
    }
  };
  assert.ok(existsSync(dir), `${dir} is missing`);
  walk(dir);
  return out;
}

/**
 * The packages to install instead of the repository's: `name@version` pairs, or `lowest` for the
 * lowest version each peer range allows (`^2.269.0` -> 2.269.0).
 */
function cdkVersions(spec: string): Record<string, string> {
  if (spec.trim() === 'lowest') {
    const peers = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).peerDependencies as Record<
      string,
      string
    >;
    return Object.fromEntries(Object.entries(peers).map(([name, range]) => [name, range.replace(/^[\^~>=\s]+/, '')]));
  }
  return Object.fromEntries(
    spec
      .split(/\s+/)
      .filter(Boolean)
      .map((s) => [s.slice(0, s.lastIndexOf('@')), s.slice(s.lastIndexOf('@') + 1)]),
  );
}
