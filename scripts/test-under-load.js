#!/usr/bin/env node
// Runs the whole suite (`npm test`) several times in a row with processes that keep every core busy
// beside it: the check that no test leans on a quiet machine. Usage:
//   npm run test:load [-- --runs 5] [-- --burners <n>]
// Each run's output goes to reports/under-load/run-<n>.log; a line per run says whether it passed,
// how long it took and the load average meanwhile. Exits 1 when any run failed.

const { spawn } = require('node:child_process');
const { createWriteStream, mkdirSync, readFileSync } = require('node:fs');
const { availableParallelism, loadavg } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const LOG_DIR = join(root, 'reports', 'under-load');

/** `--runs N` and `--burners N`; anything else is refused with the usage. */
function parseArgs(argv) {
  const opts = { runs: 5, burners: availableParallelism() };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!(key in opts) || !Number.isInteger(value) || value < (key === 'runs' ? 1 : 0)) {
      console.error(
        `test-under-load: ${argv[i]} ${argv[i + 1] ?? ''} is not valid: use --runs <1 or more> --burners <0 or more>`,
      );
      process.exit(2);
    }
    opts[key] = value;
  }
  return opts;
}

/** A process that spins one core until killed. */
function burner() {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

/** One `npm test` run, its output in `log`; resolves with its exit code and what it took. */
function runSuite(log) {
  return new Promise((resolve) => {
    const started = Date.now();
    const out = createWriteStream(log);
    const child = spawn(process.execPath, [join(__dirname, 'test.js')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const loads = [];
    const sampler = setInterval(() => loads.push(loadavg()[0]), 30_000);
    child.once('close', (code) => {
      clearInterval(sampler);
      out.end();
      const meanLoad = loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : loadavg()[0];
      resolve({ code, seconds: (Date.now() - started) / 1000, meanLoad });
    });
  });
}

/** The test counts the runner printed ("ℹ pass 1512" ...), from the log. */
function counts(log) {
  const text = readFileSync(log, 'utf8');
  const count = (k) => Number(text.match(new RegExp(`^ℹ ${k} (\\d+)$`, 'm'))?.[1] ?? Number.NaN);
  return { pass: count('pass'), fail: count('fail'), cancelled: count('cancelled'), skipped: count('skipped') };
}

async function main() {
  const { runs, burners } = parseArgs(process.argv.slice(2));
  mkdirSync(LOG_DIR, { recursive: true });
  const spinning = Array.from({ length: burners }, burner);
  const stop = () => {
    for (const b of spinning) b.kill('SIGKILL');
  };
  process.once('SIGINT', () => {
    stop();
    process.exit(130);
  });
  console.log(`${runs} runs of npm test beside ${burners} busy processes (${availableParallelism()} cores)`);
  let failed = 0;
  try {
    for (let i = 1; i <= runs; i++) {
      const log = join(LOG_DIR, `run-${i}.log`);
      const r = await runSuite(log);
      const c = counts(log);
      if (r.code !== 0) failed++;
      console.log(
        `run ${i}: ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}, ${c.pass} passed, ${c.fail} failed, ` +
          `${c.cancelled} cancelled, ${c.skipped} skipped, ${(r.seconds / 60).toFixed(1)} min, ` +
          `load average ${r.meanLoad.toFixed(1)}; log: ${log}`,
      );
    }
  } finally {
    stop();
  }
  console.log(`${runs - failed} of ${runs} runs passed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
