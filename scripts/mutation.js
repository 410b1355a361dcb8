#!/usr/bin/env node
// Mutation testing of the mesh's decision modules (stryker.config.mjs): runs StrykerJS, prints its
// score table, then the score with the equivalent mutants of test/mutation/equivalent-mutants.json set
// aside, and fails below MIN_SCORE. Usage: npm run mutation [-- <stryker options> | --from-report]
//
// An equivalent mutant changes the code but not what it does (no test can kill it). Each is listed
// with its file, mutator, the original code, the replacement and the reason; an entry that no longer
// matches a surviving mutant is reported, so the list cannot rot into a blanket excuse.

const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const MIN_SCORE = 90;
const REPORT = join(root, 'reports/mutation/mutation.json');
const EQUIVALENT = join(root, 'test/mutation/equivalent-mutants.json');

// `--from-report` judges the last run's report again (after editing the list) without running Stryker.
const fromReport = process.argv.includes('--from-report');
const started = Date.now();
if (!fromReport) {
  const stryker = spawnSync(
    process.execPath,
    [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', ...process.argv.slice(2)],
    { cwd: root, stdio: 'inherit' },
  );
  if (stryker.status !== 0) {
    console.error(`mutation: stryker failed (exit ${stryker.status}) after ${minutesSince(started)} min`);
    process.exit(stryker.status ?? 1);
  }
}
const minutes = minutesSince(started);

const report = JSON.parse(readFileSync(REPORT, 'utf8'));
const listed = JSON.parse(readFileSync(EQUIVALENT, 'utf8')).mutants;
const used = new Set();
const counts = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, equivalent: 0, other: 0 };
const unexplained = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  for (const m of mutants) {
    if (m.status === 'Killed') counts.killed++;
    else if (m.status === 'Timeout') counts.timeout++;
    else if (m.status === 'Survived' || m.status === 'NoCoverage') {
      const original = textAt(lines, m.location);
      const i = listed.findIndex(
        (e) =>
          e.file === file && e.mutator === m.mutatorName && e.original === original && e.replacement === m.replacement,
      );
      if (i >= 0) {
        counts.equivalent++;
        used.add(i);
        continue;
      }
      if (m.status === 'Survived') counts.survived++;
      else counts.noCoverage++;
      unexplained.push(`${file}:${m.location.start.line} ${m.mutatorName}: ${original} -> ${m.replacement}`);
    } else counts.other++; // CompileError, RuntimeError, Ignored: not counted by Stryker either
  }
}
const detected = counts.killed + counts.timeout;
const valid = detected + counts.survived + counts.noCoverage;
const score = valid === 0 ? 100 : (100 * detected) / valid;
const raw = (100 * detected) / (valid + counts.equivalent || 1);

if (unexplained.length) {
  console.log(`\nSurviving mutants not listed as equivalent (${unexplained.length}):`);
  for (const u of unexplained) console.log(`  ${u}`);
}
const stale = listed.filter((_, i) => !used.has(i));
if (stale.length) {
  console.log(`\nListed as equivalent but no longer surviving (remove them from ${EQUIVALENT}):`);
  for (const e of stale) console.log(`  ${e.file} ${e.mutator}: ${e.original} -> ${e.replacement}`);
}
console.log(
  `\nmutation score: ${score.toFixed(2)}% (${detected} detected of ${valid}; ${counts.survived} survived, ` +
    `${counts.noCoverage} without coverage, ${counts.equivalent} equivalent set aside; ` +
    `${raw.toFixed(2)}% counting them) in ${minutes} min`,
);
if (score < MIN_SCORE) {
  console.error(`mutation: the score is under ${MIN_SCORE}%: add tests that kill the mutants listed above`);
  process.exit(1);
}

function minutesSince(t) {
  return ((Date.now() - t) / 60_000).toFixed(1);
}

/** The source text a mutant replaced (the report's positions: 1-based lines and columns). */
function textAt(lines, { start, end }) {
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  const parts = [lines[start.line - 1].slice(start.column - 1)];
  for (let l = start.line + 1; l < end.line; l++) parts.push(lines[l - 1]);
  parts.push(lines[end.line - 1].slice(0, end.column - 1));
  return parts.join('\n');
}
