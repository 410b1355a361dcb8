/**
 * Pure: help text, written by hand about 100 columns wide, fitted to the width of the terminal (or
 * COLUMNS). Prose paragraphs are broken again between words; an option's line keeps its two columns,
 * its description broken under its own column; examples and code lines are never broken. Without a
 * width (a pipe, COLUMNS unset) the text is left exactly as written, so docs that quote it stay true.
 */
import { wrapWords } from './table-format';

/** Narrower than this beside its option, a description goes under the option instead. */
const MIN_DESCRIPTION = 24;

/** A block of help: prose (re-broken), an option and its description, or a line kept as it is. */
type HelpBlock =
  | { readonly kind: 'prose'; readonly text: string; readonly hanging: string }
  | { readonly kind: 'option'; readonly indent: number; readonly term: string; readonly column: number; text: string }
  | { readonly kind: 'kept'; readonly line: string };

const OPTION_ROW = /^( +)(\S(?:\S| (?! ))*)( {2,})(\S.*)$/;
const indentOf = (line: string) => /^ */.exec(line)![0].length;

export function fitHelp(text: string, width: number | undefined): string {
  if (width === undefined) return text;
  return helpBlocks(text.split('\n'))
    .map((b) => renderBlock(b, width))
    .join('\n');
}

/** Pure: the lines read as blocks; each line belongs to exactly one. */
function helpBlocks(lines: readonly string[]): HelpBlock[] {
  const blocks: HelpBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const last = blocks.at(-1);
    if (line.trim() === '') blocks.push({ kind: 'kept', line: '' });
    else if (last?.kind === 'option' && indentOf(line) === last.column)
      last.text = `${last.text} ${line.trim()}`.trim();
    else if (indentOf(line) === 0) proseLine(blocks, line, i === 0 || lines[i - 1] === '' ? undefined : last);
    else if (last?.kind === 'prose' && blocks.length === 1) {
      // The usage line's own continuation (`mesh rollout`'s flags on a second line).
      blocks[0] = { ...last, text: `${last.text} ${line.trim()}` };
    } else blocks.push(indentedBlock(line, lines[i + 1]));
  }
  return blocks;
}

/**
 * A line at the margin: it continues the paragraph at the margin before it, unless that one ended at a
 * heading's colon.
 */
function proseLine(blocks: HelpBlock[], line: string, before: HelpBlock | undefined): void {
  if (before?.kind === 'prose' && indentOf(before.text) === 0 && !before.text.endsWith(':')) {
    blocks[blocks.length - 1] = { ...before, text: `${before.text} ${line}` };
    return;
  }
  // A usage line's further lines start under its arguments: `mesh rollout <service> ...`.
  const usage = blocks.length === 0 ? /^mesh [a-z]+ /.exec(line)?.[0].length : undefined;
  blocks.push({ kind: 'prose', text: line, hanging: ' '.repeat(usage ?? 0) });
}

/** An indented line: an option with its description, an option whose description starts below it, a bullet, or code. */
function indentedBlock(line: string, next: string | undefined): HelpBlock {
  const indent = indentOf(line);
  const row = OPTION_ROW.exec(line);
  if (row) return { kind: 'option', indent, term: row[2]!, column: line.length - row[4]!.length, text: row[4]! };
  const below = next === undefined ? 0 : indentOf(next);
  if (next?.trim() && below > indent + 4 && !OPTION_ROW.test(next)) {
    return { kind: 'option', indent, term: line.trim(), column: below, text: '' };
  }
  // A bullet's further lines start under its text (wrapWords adds its indent).
  if (/^ +- /.test(line)) return { kind: 'prose', text: line, hanging: '  ' };
  return { kind: 'kept', line };
}

function renderBlock(b: HelpBlock, width: number): string {
  if (b.kind === 'kept') return b.line;
  if (b.kind === 'prose') return wrapWords(b.text, width, b.hanging);
  // Too little room beside the option: its description starts on the next line, a little in.
  const column = width - b.column >= MIN_DESCRIPTION ? b.column : b.indent + 4;
  const description = b.text ? wrapWords(`${' '.repeat(column)}${b.text}`, width) : '';
  // A subcommand's usage as its option breaks between words too, its further lines a little in.
  const term = wrapWords(`${' '.repeat(b.indent)}${b.term}`, width, '  ');
  if (!description) return term;
  if (term.length + 2 > column) return `${term}\n${description}`;
  return `${term}${description.slice(term.length)}`;
}
