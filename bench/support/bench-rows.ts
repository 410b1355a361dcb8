/**
 * The row format every bench file reports in and scripts/bench.js prints: a measure of the mesh next
 * to its baseline from the same run, and an optional budget.
 */

export interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

export interface Budget {
  /** What is compared: the mesh p50/p99 minus the baseline's, or the mesh p50 itself. */
  readonly of: 'added-p50' | 'added-p99' | 'p50';
  readonly max: number;
  /** A floor as well, for a figure that may miss on either side (a rate within ±10%). @default none */
  readonly min?: number;
}

export interface BenchResult {
  name: string;
  unit: string;
  n: number;
  mesh: Stats;
  baseline: Stats;
  budget?: Budget;
  note?: string;
}

/** p50, p99 (nearest rank) and mean of the samples. */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** One value as Stats (a size, a count). */
export const one = (v: number): Stats => ({ p50: v, p99: v, mean: v });

/** A monotonic clock, ms. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

/** The time of each of `n` awaited calls, ms, after `warmup` calls left unmeasured. */
export async function timeEach(n: number, fn: () => Promise<unknown>, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn();
    out.push(now() - t);
  }
  return out;
}

/**
 * A row as a line: the measure's p50 and p99 beside the in-process baseline's, with `digits` decimals
 * under 100 (none above). `measured` names the measure's column.
 */
export function besideInProcess(r: BenchResult, width: number, digits: number, measured = 'mesh '): string {
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(digits));
  return `${r.name.padEnd(width)} ${measured}p50 ${f(r.mesh.p50)} p99 ${f(r.mesh.p99)} ${r.unit}   in-process p50 ${f(r.baseline.p50)} p99 ${f(r.baseline.p99)} ${r.unit}`;
}

/**
 * What a bench file does when run as a script: its rows as JSON with `--json` (what scripts/bench.js
 * reads), else each row as `line` writes it, then `summary`'s line if any; a failure exits 1.
 */
export function runBenchScript(
  bench: () => Promise<BenchResult[]>,
  line: (r: BenchResult) => string,
  summary?: (rows: BenchResult[]) => string,
): void {
  bench()
    .then((rows) => {
      if (process.argv.includes('--json')) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const r of rows) process.stdout.write(`${line(r)}\n`);
      if (summary) process.stdout.write(`${summary(rows)}\n`);
    })
    .catch((err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    });
}
