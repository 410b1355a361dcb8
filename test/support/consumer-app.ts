/**
 * A CDK app outside this repository that installs the packed `lambda-mesh`, as a platform team would:
 * `cdk init app --language typescript`, the README's files, `npm ci` offline from the npm cache.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { consumerLock, type Lock, type LockEntry } from './consumer-lock';
import type { DeclaredMembers, ReadmeFile } from './package-checks';
import { WITHOUT_COVERAGE } from './without-coverage';

export const REPO = join(__dirname, '..', '..');

/** What `npm pack --json` says of one tarball. */
export interface PackResult {
  readonly filename: string;
  readonly integrity: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * The environment of every command: no AWS account, no SDK notices, no npm update checks, and no V8
 * coverage. The commands are tools (npm, tsc, cdk, esbuild) and the packed package, which runs from the
 * app outside this repository: none of their code counts for `npm test`'s coverage, and V8's block
 * counters would slow every one of them (tsc by about a third). The app synthesizes as a platform
 * team's does, with the CloudFormation validation that `npm test` turns off in its own synths.
 */
export function appEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { CDK_VALIDATION: _validation, ...inherited } = process.env;
  return {
    ...inherited,
    ...WITHOUT_COVERAGE,
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/** Runs a command to completion; never throws (the caller asserts on status with the output). */
export function run(cmd: string, args: readonly string[], cwd: string, env = appEnv(), timeoutMs = 300_000): RunResult {
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return {
    status: res.status,
    stdout: res.stdout ?? '',
    stderr: `${res.stderr ?? ''}${res.error ? `\n${res.error.message}` : ''}`,
    ms: Date.now() - started,
  };
}

/**
 * `run`, without holding the event loop: a step of the package test that another step's result does not
 * need (npm install beside the API check, say) runs beside it. Never rejects.
 */
export function runAsync(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env = appEnv(),
  timeoutMs = 300_000,
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        resolve({
          status: err ? (typeof code === 'number' ? code : null) : 0,
          stdout: stdout ?? '',
          stderr: `${stderr ?? ''}${err && typeof code !== 'number' ? `\n${err.message}` : ''}`,
          ms: Date.now() - started,
        });
      },
    );
  });
}

/** The output of a failed command, trimmed to its end (where the error is). */
export function explain(what: string, r: RunResult): string {
  const tail = (s: string) => (s.length > 4000 ? `…${s.slice(-4000)}` : s);
  return `${what} exited ${r.status}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** `npm pack` of this repository into `dir` (its prepack builds dist/ and the prebuilt assets). */
export function packRepository(dir: string): { pack: PackResult; ms: number } {
  const r = run('npm', ['pack', '--json', '--pack-destination', dir], REPO);
  if (r.status !== 0) throw new Error(explain('npm pack', r));
  const [pack] = JSON.parse(r.stdout) as PackResult[];
  return { pack, ms: r.ms };
}

/** The versions this repository's lock installed: the offline cache has exactly these. */
export function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as Lock;
  const v = lock.packages[`node_modules/${name}`]?.version;
  if (!v) throw new Error(`${name} is not in package-lock.json`);
  return v;
}

/**
 * Turns the folder `cdk init app --language typescript --generate-only` made into an app that installs
 * offline: its dependencies at the versions this repository's lock holds (cdk init asks for newer
 * TypeScript and @types/node than the cache has, and for jest, which the cache lacks, so the jest test
 * goes), `lambda-mesh` from the tarball, and a lock file built from this repository's.
 *
 * With `versions` (e.g. `{ 'aws-cdk-lib': '2.269.0', constructs: '10.5.0' }`) those versions go in
 * instead, and no lock is written: `npm install` then resolves the app from the registry.
 */
export function prepareInstall(
  app: string,
  tarball: string,
  pack: PackResult,
  versions?: Record<string, string>,
): void {
  const generated = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  const packed = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const pick = (names: string[], range = '') =>
    Object.fromEntries(names.map((n) => [n, versions?.[n] ?? `${range}${lockedVersion(n)}`]));
  const manifest = {
    ...generated,
    dependencies: { ...pick(['aws-cdk-lib', 'constructs'], '^'), 'lambda-mesh': `file:${tarball}` },
    devDependencies: pick(['@types/node', 'aws-cdk', 'tsx', 'typescript']),
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(join(app, 'test'), { recursive: true, force: true });
  rmSync(join(app, 'jest.config.js'), { force: true });
  const tsconfig = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.types = ['node'];
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  if (versions) return;

  const entry: LockEntry = {
    version: packed.version,
    resolved: `file:${tarball}`,
    integrity: pack.integrity,
    license: packed.license,
    dependencies: packed.dependencies,
    peerDependencies: packed.peerDependencies,
    bin: packed.bin,
    engines: packed.engines,
  };
  const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as Lock;
  const lock = consumerLock(
    repoLock,
    {
      name: manifest.name,
      version: manifest.version,
      dependencies: manifest.dependencies,
      devDependencies: manifest.devDependencies,
    },
    { 'node_modules/lambda-mesh': entry },
  );
  writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Writes the README's files into the app (replacing cdk init's stack). */
export function writeFiles(app: string, files: readonly ReadmeFile[]): void {
  for (const f of files) {
    mkdirSync(dirname(join(app, f.path)), { recursive: true });
    writeFileSync(join(app, f.path), f.source);
  }
}

/** A running `npx mesh local`: its URL, and a stop that ends the whole process group. */
export interface RunningMesh {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts `npx mesh local <args>` in `app` and resolves once it prints its URL. */
export function startMeshLocal(app: string, args: readonly string[], timeoutMs = 240_000): Promise<RunningMesh> {
  // Its own process group: npx starts node, which starts workers; one signal ends them all.
  const child: ChildProcess = spawn('npx', ['mesh', 'local', ...args], {
    cwd: app,
    env: appEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const killed = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(killed);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`npx mesh local printed no URL in ${timeoutMs} ms:\n${out}`)));
    }, timeoutMs);
    const onData = () => {
      const m = /local mesh running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ url: m[1], output: () => out, stop });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npx mesh local exited ${code} before serving:\n${out}`));
    });
  });
}

/** A package's declarations as TypeScript reads them: a program over them, and that program's TypeScript. */
export interface Declarations {
  readonly ts: typeof import('typescript');
  readonly program: import('typescript').Program;
  /** The folder whose dist/ holds the entry points. */
  readonly packageDir: string;
}

/** The package's two entry points and all they import, as a program of its own. */
export function declarationsProgram(packageDir: string): Declarations {
  const ts = require('typescript') as typeof import('typescript');
  const program = ts.createProgram(declarationEntries(packageDir), {
    noEmit: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  return { ts, program, packageDir };
}

/** `lambda-mesh` and `lambda-mesh/runtime`: the declarations each entry point's types name. */
export function declarationEntries(packageDir: string): [string, string] {
  return [join(packageDir, 'dist/infra/index.d.ts'), join(packageDir, 'dist/functions/mesh/index.d.ts')];
}

/**
 * The members the published declarations give `Mesh` and the runtime's `mesh`. For `Mesh`, only members
 * a class declares (its own or inherited): one merged in from an interface elsewhere, as a property
 * attached at run time would need, does not count.
 */
export function declaredMembers({ ts, program, packageDir }: Declarations): DeclaredMembers {
  const entries = declarationEntries(packageDir);
  const checker = program.getTypeChecker();
  const exportOf = (file: string, name: string) => {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    if (!symbol) throw new Error(`${file} exports no ${name}`);
    return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  };
  const names = (type: import('typescript').Type, onClass = false) =>
    new Set(
      checker
        .getPropertiesOfType(type)
        .filter((p) => !onClass || (p.declarations ?? []).some((d) => ts.isClassLike(d.parent)))
        .map((p) => p.name),
    );
  return {
    Mesh: names(checker.getDeclaredTypeOfSymbol(exportOf(entries[0], 'Mesh')), true),
    runtime: names(checker.getTypeOfSymbol(exportOf(entries[1], 'mesh'))),
  };
}
