#!/usr/bin/env node
// Runs every test file under test/ with Node's own test runner (tsx compiles TypeScript on the fly).
// Node 20's --test takes no globs, so the files are listed here. Usage: npm test [-- <path filter>...]
//
// The whole run (no filter) first lints and checks the format (biome ci), then runs the tests under c8
// with the type check beside them (its verdict is printed after theirs), and fails when the data plane
// (functions/mesh) or the policy model (shared) falls below the coverage thresholds, unit and
// integration tests counted together.

const { spawn, spawnSync } = require('node:child_process');
const { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');
const { cpuReport, cpuTimes } = require('./cpu-per-file');
const { groupFiles } = require('./test-groups');

const root = join(__dirname, '..');
const filters = process.argv.slice(2);
const full = filters.length === 0;

// A test that runs longer than this fails instead of holding the suite (a call that never returns, a
// server that never answers). It bounds each file too: the slowest, the package packed and installed
// into a new CDK app (npm pack, npm install, a synth), takes minutes, and over 10 on a machine whose
// cores are crowded several times over.
const TEST_TIMEOUT_MS = 900_000;

/** Coverage each folder must keep, in percent (lines and branches of its files, loaded or not). */
const COVERAGE = {
  'functions/mesh': { lines: 90, branches: 85 },
  shared: { lines: 90, branches: 85 },
};
const COVERAGE_DIR = join(root, 'coverage');
/** Where a whole run's test files write their CPU time (scripts/cpu-per-file.js). */
const CPU_LOG = join(root, 'reports', 'test-cpu.jsonl');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (/\.test\.(ts|js|mjs|cjs)$/.test(name)) out.push(p);
  }
  return out;
}

function run(label, args, hint, options = {}) {
  console.log(label);
  const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });
  if (res.status !== 0) {
    if (hint) console.error(hint);
    process.exit(res.status ?? 1);
  }
}

// The files that take longest, longest first (as the slowest-files lists of whole runs showed them).
// They start first, each in a process of its own: files run four at a time, and a long file that
// starts last runs on its own while the other cores idle. Every other file follows: in a whole run they
// share a few processes per folder (scripts/test-groups.js), whose place in this order a folder's name
// gives (test/integration's three take a minute or more each, so they start among the long files); in
// a run with a filter, in alphabetical order.
// (scripts/test-files.js keeps this order; `node --test` itself starts its files sorted by path.)
const START_FIRST = [
  'test/package/package.test.ts',
  'test/integration/deployment-local-mesh.test.ts',
  'test/integration/operator-local-mesh.test.ts',
  'test/cli/rollout-local.test.ts',
  'test/integration/',
  'test/cli/cli-wire.test.ts',
  'test/integration/observ-local-mesh.test.ts',
  'test/integration/scale-change.test.ts',
  'test/integration/dashboard-queries.test.ts',
  'test/integration/local-mesh-watch.test.ts',
  'test/security/checkout-chaos.test.ts',
  'test/integration/local-mesh-start-deployment.test.ts',
  'test/integration/local-mesh-example.test.ts',
  'test/integration/identity-bootstrap-local.test.ts',
  'test/security/',
  'test/infra/',
  'test/integration/local-endpoint-aws-cli-waiters.test.ts',
  'test/integration/local-mesh-resilience.test.ts',
  'test/e2e/dashboard.test.ts',
  'test/e2e/dashboard-attention.test.ts',
  'test/security/edge-redirect.test.ts',
  'test/security/data-plane.test.ts',
  'test/integration/async-edges-local-mesh.test.ts',
  'test/integration/local-mesh-region-failover.test.ts',
  'test/cli/cli-local.test.ts',
  'test/cli/',
  'test/unit/',
];

/** START_FIRST in its order, then the rest alphabetically. */
function byStart(a, b) {
  const rank = (f) => (START_FIRST.includes(f) ? START_FIRST.indexOf(f) : START_FIRST.length);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

const files = find(join(root, 'test'))
  .map((f) => relative(root, f).split(sep).join('/'))
  .filter((f) => full || filters.some((x) => f.includes(x)))
  .sort(byStart);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'test/'}`);
  process.exit(1);
}
/**
 * LAMBDA_MESH_TEST_FLAGS=recommended: every app the tests make (and the apps they synthesize in child
 * processes) gets aws-cdk-lib's recommended feature flags, those `cdk init` writes into a new app's
 * cdk.json, through CDK_CONTEXT_JSON, the context every App reads. A test's own context still wins.
 */
function flagsContext(choice) {
  if (choice === undefined || choice === '') return {};
  if (choice !== 'recommended') {
    console.error(`LAMBDA_MESH_TEST_FLAGS=${choice}: the one value is "recommended" (unset: cdk.json's flags)`);
    process.exit(2);
  }
  const { CURRENTLY_RECOMMENDED_FLAGS } = require('aws-cdk-lib/cx-api');
  const given = process.env.CDK_CONTEXT_JSON ? JSON.parse(process.env.CDK_CONTEXT_JSON) : {};
  return { CDK_CONTEXT_JSON: JSON.stringify({ ...CURRENTLY_RECOMMENDED_FLAGS, ...given }) };
}
const env = {
  ...process.env,
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // aws-cdk-lib validates every synthesized template (its CloudFormation validation, in WebAssembly)
  // and only prints what it finds. Starting it costs each synthesizing process several seconds of CPU,
  // most of an infra test file's time; test/infra/shop-template.test.ts runs it on the example app and
  // fails on any finding. CDK_VALIDATION=true turns it back on everywhere.
  CDK_VALIDATION: process.env.CDK_VALIDATION ?? 'false',
  ...flagsContext(process.env.LAMBDA_MESH_TEST_FLAGS),
};
if (full) {
  run(
    'lint and format: biome ci .',
    [require.resolve('@biomejs/biome/bin/biome'), 'ci', '.'],
    'biome ci failed: `npx biome check --write .` fixes the format; fix the lint findings above',
  );
}
const test = [
  // tsx's CommonJS hook alone: the sources and tests are CommonJS, and `--import tsx` would add its ESM
  // loader, a thread of its own in every test process (about 0.7 s of CPU per file under coverage).
  '--require',
  'tsx/cjs',
  // Four files at a time on a 2-core machine: the local-mesh files spend most of their time waiting (a
  // deployment's bake, an alarm's period, a cache's TTL). With three at a time the cores were busy 1.15
  // of 2 on average and the run took 626 s; with four, 1.42 and 485 s (the same tree, one machine). Every
  // test holds with both cores busy (npm run test:load).
  '--test-concurrency=4',
  `--test-timeout=${TEST_TIMEOUT_MS}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  // A whole run also ends with the test files that took longest, and those that spent most CPU time.
  ...(full
    ? [
        '--test-reporter=./scripts/slowest-files.mjs',
        '--test-reporter-destination=stdout',
        '--require',
        require.resolve('./cpu-per-file'),
      ]
    : []),
  // `node --test` with the files in the order above (it would sort them by path).
  join(__dirname, 'test-files.js'),
  ...(full ? wholeRunFiles() : files),
];
if (!full) {
  const res = spawnSync(process.execPath, test, { cwd: root, stdio: 'inherit', env });
  process.exit(res.status ?? 1);
}

// The type check runs beside the tests, with TypeScript's native compiler (typescript-native: TypeScript
// 7, about a quarter of the CPU time of TypeScript 5's tsc on this tree); its output is printed after
// theirs. TypeScript 5 stays for what needs its JavaScript API or its emit (the build, api-extractor,
// the package test's app).
mkdirSync(dirname(CPU_LOG), { recursive: true });
const typecheck = startTypecheck(join(dirname(CPU_LOG), 'typecheck.txt'));

// c8 collects V8's coverage of every process the tests start and maps it back to the TypeScript.
const c8 = require.resolve('c8/bin/c8.js');
const include = Object.keys(COVERAGE).flatMap((dir) => ['--include', `${dir}/**`]);
rmSync(CPU_LOG, { force: true });
const cpuBefore = childCpuSeconds();
const started = Date.now();
const res = spawnSync(
  process.execPath,
  [
    c8,
    '--all',
    ...include,
    '--exclude',
    'functions/mesh/build.ts',
    '--reporter=text-summary',
    '--reporter=json-summary',
    '--report-dir',
    COVERAGE_DIR,
    process.execPath,
    ...test,
  ],
  { cwd: root, stdio: 'inherit', env: { ...env, MESH_TEST_CPU_LOG: CPU_LOG } },
);
console.log(`tests and coverage: ${((Date.now() - started) / 1000).toFixed(0)} s`);
typecheck.then((typesOk) => {
  process.stdout.write(cpuReport(CPU_LOG, childCpuSeconds() - cpuBefore));
  if (res.status !== 0) process.exit(res.status ?? 1);
  const coverageOk = checkCoverage();
  process.exit(typesOk && coverageOk ? 0 : 1);
});

/** The files of a whole run: the longest each in a process of its own, the rest sharing (scripts/test-groups.js). */
function wholeRunFiles() {
  return groupFiles(root, files, START_FIRST, join(dirname(CPU_LOG), 'test-groups'));
}

/** Starts TypeScript 7's `tsc --noEmit -p .` with its output to `outFile`; resolves, once it printed it, to whether it passed. */
function startTypecheck(outFile) {
  const fd = openSync(outFile, 'w');
  const child = spawn(
    process.execPath,
    [join(dirname(require.resolve('typescript-native/package.json')), 'bin', 'tsc'), '--noEmit', '-p', '.'],
    {
      cwd: root,
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      console.log('typecheck: tsc --noEmit -p .');
      process.stdout.write(readFileSync(outFile, 'utf8'));
      if (code !== 0) console.error('typecheck failed: fix the errors above (npm run typecheck)');
      resolve(code === 0);
    });
  });
}

/** The CPU time of the processes this one waited for so far (0 where /proc is not there). */
function childCpuSeconds() {
  try {
    const [, , childUser, childSystem] = cpuTimes();
    return childUser + childSystem;
  } catch {
    return 0;
  }
}

/** Sums coverage-summary.json per folder of COVERAGE; prints each, and false when one is short. */
function checkCoverage() {
  const summary = JSON.parse(readFileSync(join(COVERAGE_DIR, 'coverage-summary.json'), 'utf8'));
  let ok = true;
  for (const [dir, min] of Object.entries(COVERAGE)) {
    const prefix = join(root, dir) + sep;
    const sum = { lines: { total: 0, covered: 0 }, branches: { total: 0, covered: 0 } };
    const weak = [];
    for (const [file, s] of Object.entries(summary)) {
      if (!file.startsWith(prefix)) continue;
      for (const k of ['lines', 'branches']) {
        sum[k].total += s[k].total;
        sum[k].covered += s[k].covered;
      }
      if (s.lines.pct < min.lines) weak.push(`${relative(root, file)} ${s.lines.pct}%`);
    }
    const pct = (k) => (sum[k].total === 0 ? 100 : (100 * sum[k].covered) / sum[k].total);
    const line = `coverage ${dir}: lines ${pct('lines').toFixed(1)}% (min ${min.lines}), branches ${pct('branches').toFixed(1)}% (min ${min.branches})`;
    if (pct('lines') >= min.lines && pct('branches') >= min.branches) {
      console.log(line);
    } else {
      ok = false;
      console.error(`${line}: too low. Files under ${min.lines}% of lines: ${weak.join(', ')}`);
    }
  }
  return ok;
}
