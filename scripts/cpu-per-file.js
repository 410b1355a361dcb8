// Loaded into every test file's process by a whole run (scripts/test.js): at exit it appends the CPU
// time the file spent to the file named by MESH_TEST_CPU_LOG, one JSON line per test file, so a run
// can say which files spend the machine's cores and not only which take longest on the clock.
//
// The time is the process's own (user + system) plus that of every child it waited for, which a
// child's own waited-for children are part of (Linux's /proc/<pid>/stat, fields utime to cstime, in
// clock ticks of 1/100 s). A child still running when the file exits, or left to run on, is not in it.

const { appendFileSync, readFileSync } = require('node:fs');
const { relative } = require('node:path');

const TICKS_PER_SECOND = 100;
const log = process.env.MESH_TEST_CPU_LOG;
const file = process.argv[1];

/** The four CPU times of this process, in seconds: its own user and system, its children's. */
function cpuTimes() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // The command name may hold spaces and parentheses: the fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime is field 14 of the whole line, the 12th after the name and state.
  return fields.slice(11, 15).map((ticks) => Number(ticks) / TICKS_PER_SECOND);
}

// The test runner starts each file in a process of its own, marked NODE_TEST_CONTEXT; the runner
// itself is not, though its first argument is a test file too. A process a test file starts may
// inherit both the mark and this module: it is not a test file, and its time is in its parent's.
const isTestFile = /\.test\.[cm]?[jt]s$/.test(file ?? '');
if (log && isTestFile && process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  process.once('exit', () => {
    try {
      const [user, system, childUser, childSystem] = cpuTimes();
      const line = { file: relative(process.cwd(), file), self: user + system, children: childUser + childSystem };
      appendFileSync(log, `${JSON.stringify(line)}\n`);
    } catch {
      // No /proc (not Linux): the run goes on without the figure.
    }
  });
}

/**
 * The lines the run's test files appended to `logPath`, as a report: the CPU time they spent of the
 * run's `totalSeconds`, and the `shown` files that spent most.
 */
function cpuReport(logPath, totalSeconds, shown = 12) {
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
  const files = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((f) => ({ file: f.file, seconds: f.self + f.children }))
    .sort((a, b) => b.seconds - a.seconds);
  const sum = files.reduce((s, f) => s + f.seconds, 0);
  const lines = [
    `CPU time: ${totalSeconds.toFixed(0)} s for tests, coverage and the type check; ${sum.toFixed(0)} s in the ` +
      `${files.length} test files and the processes they waited for (the rest: the runner, coverage, the type ` +
      'check, processes left running)',
    `test files that spent most CPU time (of ${files.length}):`,
    ...files.slice(0, shown).map((f) => `  ${f.seconds.toFixed(1).padStart(6)} s  ${f.file}`),
  ];
  return `${lines.join('\n')}\n`;
}

module.exports = { cpuTimes, cpuReport };
