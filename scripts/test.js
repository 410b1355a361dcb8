#!/usr/bin/env node
// Runs every test file under test/ with Node's own test runner (tsx compiles TypeScript on the fly).
// Node 20's --test takes no globs, so the files are listed here. Usage: npm test [-- <path filter>...]

const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const filters = process.argv.slice(2);

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (/\.test\.(ts|js|mjs|cjs)$/.test(name)) out.push(p);
  }
  return out;
}

const files = find(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'test/'}`);
  process.exit(1);
}
const env = {
  ...process.env,
  AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
// The whole run lints, checks the format and type-checks first: a finding is a failure like any other.
if (filters.length === 0) {
  console.log('lint and format: biome ci .');
  const biome = spawnSync(process.execPath, [require.resolve('@biomejs/biome/bin/biome'), 'ci', '.'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (biome.status !== 0) {
    console.error('biome ci failed: `npx biome check --write .` fixes the format; fix the lint findings above');
    process.exit(biome.status ?? 1);
  }
  console.log('typecheck: tsc --noEmit -p .');
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', '.'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) {
    console.error('typecheck failed: fix the errors above (npm run typecheck)');
    process.exit(tsc.status ?? 1);
  }
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
