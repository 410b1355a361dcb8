// A reporter for Node's test runner that prints, once the run ends, the test files that took longest
// (their top-level tests' durations summed), so a suite that grows slow shows where.
const SHOWN = 12;

export default async function* slowestFiles(source) {
  const byFile = new Map();
  for await (const { type, data } of source) {
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && data.file) {
      byFile.set(data.file, (byFile.get(data.file) ?? 0) + (data.details?.duration_ms ?? 0));
    }
  }
  const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  if (slowest.length === 0) return;
  const cwd = `${process.cwd()}/`;
  yield `\nslowest test files (of ${byFile.size}):\n`;
  for (const [file, ms] of slowest) yield `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file.replace(cwd, '')}\n`;
}
