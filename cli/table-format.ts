/**
 * Aligned text tables and the number formats they show. Cells may carry colour (cli/colour.ts, only at
 * a terminal): widths count what the terminal shows, so coloured and plain tables align alike. Cells
 * hold names and texts from outside (services, policy items, errors): each is shown as printable text
 * (cli/terminal-text.ts), one cell on one line.
 */
import type { CallerNote } from '../shared/telemetry/callers';
import { type Paint, visibleLength } from './colour';
import { printableLine } from './terminal-text';

/** How a table is laid out: which columns are left-aligned, and the width it must fit. */
export interface TableOptions {
  /** Only these columns (names) are left-aligned; the others (numbers) are right-aligned. All by default. */
  readonly left?: readonly number[];
  /** The terminal's width: a table wider than it breaks the `wrap` column's cells between words. */
  readonly width?: number;
  /** The column whose cells may take more than one line (prose: a detail, a note, a path). The last by default. */
  readonly wrap?: number;
  /** No header line: a table under a heading of its own (the stacked form still names each value). */
  readonly headless?: boolean;
}

/**
 * The narrowest a wrapped column gets beside the others; narrower, its cells go under their rows. A
 * column no wider than this holds no prose: a table it does not fit beside is stacked instead.
 */
const MIN_WRAPPED = 12;

/**
 * Columns padded to their widest cell. Left-aligned by default; with `left` given, only those columns
 * (names) are, and the others (numbers) are right-aligned. With `width`, a table wider than it breaks
 * one column's cells between words onto lines of their own, under that column (as gh's tables do);
 * where the other columns leave that column too little room, its cells go on lines of their own under
 * their rows, indented. Where the other columns alone are wider than `width` (or the column is no prose),
 * the table is stacked: each row's first cell on a line, then each other cell under it, named by its
 * header. No row breaks across the whole screen, and no cell is cut.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const shown = [header, ...rows].map((r) => r.map(printableLine));
  const all = fitColumn(shown, options.wrap ?? header.length - 1, options.width);
  if (all === 'stacked') return stackedTable(shown, options.width!);
  const cells = all.filter((r) => typeof r !== 'string');
  const widths = header.map((_, c) => Math.max(...cells.map((r) => visibleLength(r[c] ?? ''))));
  const pad = (cell: string, c: number) => ' '.repeat(widths[c]! - visibleLength(cell));
  const leftAligned = (c: number) => options.left === undefined || options.left.includes(c);
  return all
    .slice(options.headless ? 1 : 0)
    .map((r) =>
      typeof r === 'string'
        ? r
        : r
            .map((cell, c) => (leftAligned(c) ? cell + pad(cell, c) : pad(cell, c) + cell))
            .join('  ')
            .trimEnd(),
    )
    .join('\n');
}

/** A row of a table's cells, or a line of its own (a cell placed under its row). */
type TableLine = readonly string[] | string;

/**
 * Pure: the rows, with column `wrap`'s cells broken between words where the table is wider than
 * `width`; each further line of a cell is a row of its own, empty but for that column. With too little
 * room beside the others for the column (or its longest word), its cells go under their rows (the
 * header's is left out); where that cannot help, `stacked`.
 */
function fitColumn(
  rows: readonly string[][],
  wrap: number,
  width: number | undefined,
): readonly TableLine[] | 'stacked' {
  const widthOf = (c: number) => Math.max(...rows.map((r) => visibleLength(r[c] ?? '')));
  const columns = rows[0]!.length;
  const others = Array.from({ length: columns }, (_, c) => (c === wrap ? 0 : widthOf(c) + 2)).reduce((a, b) => a + b);
  if (width === undefined || widthOf(wrap) <= width - others) return rows;
  const longestWord = Math.max(...rows.flatMap((r) => (r[wrap] ?? '').split(' ').map(visibleLength)));
  if (width - others >= Math.max(MIN_WRAPPED, longestWord)) {
    return rows.flatMap((r) =>
      wrapWords(r[wrap] ?? '', width - others)
        .split('\n')
        .map((part, i) => r.map((cell, c) => (c === wrap ? part : i === 0 ? cell : ''))),
    );
  }
  // Under its row only a prose column after the row's name, beside others that fit.
  if (others - 2 > width || widthOf(wrap) <= MIN_WRAPPED || wrap === 0) return 'stacked';
  return rows.flatMap((r, i) => [
    r.map((cell, c) => (c === wrap ? '' : cell)),
    ...(i === 0 || !r[wrap] ? [] : wrapWords(`  ${r[wrap]}`, width, '  ').split('\n')),
  ]);
}

/**
 * Pure: the table stacked to fit `width`, as `kubectl describe` shows an object: each row's first cell on
 * a line of its own, then its other cells under it, each after its header, breaking between words under
 * its value. Empty cells are left out; the header row names the values, so it is no line of its own.
 */
function stackedTable(rows: readonly (readonly string[])[], width: number): string {
  const [header, ...body] = rows;
  const label = Math.max(...header!.slice(1).map(visibleLength));
  return body
    .flatMap((r) => {
      const lead = ' '.repeat(/^ */.exec(r[0]!)![0].length + 2);
      const cells = r.slice(1).flatMap((cell, i) => (cell ? [`${lead}${header![i + 1]!.padEnd(label)}  ${cell}`] : []));
      return [r[0]!, ...cells.map((line) => wrapWords(line, width, ' '.repeat(label + 2)))];
    })
    .join('\n');
}

/** One column of a table: its header, its cells (one per row), and whether it is left-aligned (names). */
export interface TableColumn {
  readonly header: string;
  readonly cells: readonly string[];
  readonly left?: boolean;
  /** Its cells may break between words where the table is too wide (an edge); else the last column's may. */
  readonly wrap?: boolean;
}

/** Pure: the columns as formatTable lays them out (fitted to `width` when given). */
export function columnsTable(columns: readonly TableColumn[], width?: number): string {
  const rows = (columns[0]?.cells ?? []).map((_, r) => columns.map((c) => c.cells[r] ?? ''));
  const left = columns.flatMap((c, i) => (c.left ? [i] : []));
  return formatTable(
    columns.map((c) => c.header),
    rows,
    { left, width, ...(columns.some((c) => c.wrap) ? { wrap: columns.findIndex((c) => c.wrap) } : {}) },
  );
}

/** A way to lay out a table, and what it leaves out of the widest one (for the note under it). */
export interface TableLayout {
  readonly columns: readonly TableColumn[];
  /** Columns left out that read 0 on every row. */
  readonly quiet?: readonly string[];
  /** Columns left out that had something to say. */
  readonly dropped?: readonly string[];
}

/**
 * Pure: tables that narrow together, each given as its layouts (widest first, the same steps for every
 * table): the first step at which every table's lines fit in `width` terminal columns, else the last,
 * fitted as formatTable fits a table (its last column broken under itself, or the table stacked); with no
 * width (output to a pipe or a file, or `--wide`) the first. As kubectl and linkerd do, a table at a
 * terminal fits it rather than breaking every row over two lines.
 */
export function fitLayouts(
  tables: readonly (readonly TableLayout[])[],
  width: number | undefined,
): (TableLayout & { text: string })[] {
  const steps = Math.min(...tables.map((t) => t.length));
  let chosen: (TableLayout & { text: string })[] = [];
  for (let step = 0; step < steps; step++) {
    chosen = tables.map((t) => ({ ...t[step]!, text: columnsTable(t[step]!.columns) }));
    if (width === undefined || chosen.every((t) => widest(t.text) <= width)) return chosen;
  }
  return chosen.map((t) => ({ ...t, text: columnsTable(t.columns, width) }));
}

/** The widest line of a text, as the terminal shows it. */
const widest = (text: string) => Math.max(...text.split('\n').map(visibleLength));

/**
 * Pure: prose broken between words to lines of at most `width` columns (a word longer stays whole, and
 * so does a command in backticks: it is pasted as it is). Each line of the text is broken on its own; the lines it makes start as it does (its leading spaces)
 * and `indent` further: a check's detail under its text, not under its mark.
 */
export function wrapWords(text: string, width: number | undefined, indent = ''): string {
  if (width === undefined) return text;
  return text
    .split('\n')
    .map((line) => wrapLine(line, width, `${/^ */.exec(line)![0]}${indent}`))
    .join('\n');
}

function wrapLine(line: string, width: number, hanging: string): string {
  const lead = /^ */.exec(line)![0];
  // Each word with the spaces before it: a line of aligned fields keeps its alignment where it is not broken.
  const words = line.slice(lead.length).match(/ *(?:`[^`]*`|[^ ])+/g) ?? [];
  const lines: string[] = [lead];
  for (const word of words) {
    const last = lines.length - 1;
    if (lines[last] === lead || visibleLength(lines[last]!) + visibleLength(word) <= width) lines[last] += word;
    else lines.push(`${hanging}${word.trimStart()}`);
  }
  return lines.join('\n');
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
