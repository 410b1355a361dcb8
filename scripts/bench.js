#!/usr/bin/env node
// Runs every bench/*.bench.ts (via tsx, each with --json, one after another so they do not compete
// for the CPU) and prints one table: each row's mesh and baseline numbers, its budget and pass/fail.
// A bench file exports rows { name, unit, n, mesh:{p50,p99,mean}, baseline:{p50,p99,mean}, budget?, note? };
// `ratio` is mesh p50 / baseline p50 (baselines are measured in the same run).
// budget = { of: 'added-p50' | 'added-p99' | 'p50', max, min? } (min: a floor too, for a figure within ±x%). Rows of files that name no budget may get one
// from KNOWN_BUDGETS below (the identity row). Usage: npm run bench [-- <file filter>...]
// Exit code 1 when a budget fails or a bench file fails.

const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const filters = process.argv.slice(2);
const KNOWN_BUDGETS = {
  'identity sign+verify per hop': { of: 'added-p50', max: 0.3 },
};

const files = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const rows = [];
let failed = false;
for (const f of files) {
  process.stderr.write(`bench: running ${f} ...\n`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join('bench', f), '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const start = r.stdout.indexOf('[');
  let parsed;
  try {
    parsed = JSON.parse(r.stdout.slice(start));
  } catch {
    failed = true;
    rows.push({
      file: f,
      name: `(${f} failed: exit ${r.status})`,
      error: (r.stderr || r.stdout).split('\n').slice(-5).join(' | '),
    });
    continue;
  }
  for (const row of parsed) rows.push({ file: f, ...row, budget: row.budget ?? KNOWN_BUDGETS[row.name] });
}

const fmt = (v) =>
  v === undefined ? '' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
function measured(row) {
  const b = row.budget;
  if (!b) return undefined;
  if (b.of === 'added-p50') return row.mesh.p50 - row.baseline.p50;
  if (b.of === 'added-p99') return row.mesh.p99 - row.baseline.p99;
  return row.mesh.p50;
}
/** mesh p50 / baseline p50, when the row has a baseline (a measured one, not 0). */
function ratio(row) {
  const b = row.baseline.p50;
  return b > 0 ? `${(row.mesh.p50 / b).toFixed(2)}x` : '';
}
const head = [
  'bench',
  'row',
  'unit',
  'n',
  'mesh p50',
  'mesh p99',
  'base p50',
  'base p99',
  'ratio',
  'measured',
  'budget',
  'result',
];
const table = [head];
for (const row of rows) {
  if (row.error) {
    // One cell per column: the bench, the row, blanks, then ERROR under `result`.
    table.push([row.file, row.name, ...Array(head.length - 3).fill(''), 'ERROR']);
    continue;
  }
  const m = measured(row);
  const ok = m === undefined ? undefined : m <= row.budget.max && (row.budget.min === undefined || m >= row.budget.min);
  if (ok === false) failed = true;
  table.push([
    row.file.replace('.bench.ts', ''),
    row.name,
    row.unit,
    String(row.n),
    fmt(row.mesh.p50),
    fmt(row.mesh.p99),
    fmt(row.baseline.p50),
    fmt(row.baseline.p99),
    ratio(row),
    m === undefined ? '' : `${fmt(m)} (${row.budget.of})`,
    m === undefined
      ? ''
      : row.budget.min === undefined
        ? `<= ${row.budget.max}`
        : `${row.budget.min}..${row.budget.max}`,
    ok === undefined ? 'info' : ok ? 'PASS' : 'FAIL',
  ]);
}
const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table)
  process.stdout.write(
    `${r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()}\n`,
  );
for (const row of rows) if (row.error) process.stdout.write(`${row.file}: ${row.error}\n`);
for (const row of rows) if (row.note) process.stdout.write(`note: ${row.name}: ${row.note}\n`);
process.exit(failed ? 1 : 0);
