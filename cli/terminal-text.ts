/**
 * A line of the CLI's output made safe for the terminal with its colour kept (shared/terminal-text.ts
 * says what is shown as an escape, and why). Pure.
 */
import { printable } from '../shared/terminal-text';
import { PAINT_SEQUENCE } from './colour';

/**
 * A line (or table cell) built from values and colour: the colour the CLI paints (cli/colour.ts) stays,
 * any other control character is shown as its escape. A value can still carry one of those few colour
 * sequences into a cell; it can move, clear or write nothing.
 */
export function printableLine(line: string): string {
  return line
    .split(PAINT_SEQUENCE)
    .map((part, i) => (i % 2 === 1 ? part : printable(part)))
    .join('');
}

/**
 * Everything a command writes passes here on its way out (cli/context.ts): in whatever line a command
 * built from values without showing them as printable text, a control character is shown as its escape;
 * the CLI's colours stay. Lines stay lines: a value's own newline is the command's to show (the tables
 * and the commands that print names from outside do).
 */
export function printableOutput(text: string): string {
  return text.split('\n').map(printableLine).join('\n');
}
