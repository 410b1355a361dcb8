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
