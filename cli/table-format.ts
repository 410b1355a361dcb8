/**
 * Aligned text tables and the number formats they show. Cells may carry colour (cli/colour.ts, only at
 * a terminal): widths count what the terminal shows, so coloured and plain tables align alike. Cells
 * hold names and texts from outside (services, policy items, errors): each is shown as printable text
 * (cli/terminal-text.ts), one cell on one line.
 */
import type { CallerNote } from '../shared/telemetry/callers';
import { type Paint, visibleLength } from './colour';
import { printableLine } from './terminal-text';

/**
 * Columns padded to their widest cell. Left-aligned by default; with `left` given, only those columns
 * (names) are, and the others (numbers) are right-aligned.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { readonly left?: readonly number[] } = {},
): string {
  const all = [header, ...rows].map((r) => r.map(printableLine));
  const widths = header.map((_, c) => Math.max(...all.map((r) => visibleLength(r[c] ?? ''))));
  const pad = (cell: string, c: number) => ' '.repeat(widths[c]! - visibleLength(cell));
  const leftAligned = (c: number) => options.left === undefined || options.left.includes(c);
  return all
    .map((r) =>
      r
        .map((cell, c) => (leftAligned(c) ? cell + pad(cell, c) : pad(cell, c) + cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A rate 0..1 as a percentage; `-` when there is none. */
export function fmtPct(r: number | null): string {
  return r === null ? '-' : `${(r * 100).toFixed(r === 1 ? 0 : 1)}%`;
}

/** A success rate as a percentage, styled with the dashboard's thresholds: under 95% red, under 99% yellow. */
export function paintRate(paint: Paint, rate: number | null): string {
  if (rate === null) return fmtPct(rate);
  return paint(rate < 0.95 ? 'red' : rate < 0.99 ? 'yellow' : 'green', fmtPct(rate));
}

/** A latency in ms, as ms or s; `-` when there is none. */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  return v >= 10 ? `${Math.round(v)}ms` : `${v.toFixed(1)}ms`;
}

/**
 * Pure: what each caller that is no service is, under a table that names it (`mesh stat`'s edges,
 * `mesh status`'s who may call whom; the dashboard marks the same callers on its graph), so none reads as
 * a service that takes no traffic.
 */
export function callerLines(callers: readonly CallerNote[]): string[] {
  return callers.length ? ['', ...callers.map((c) => `${c.name}: ${c.about}`)] : [];
}
