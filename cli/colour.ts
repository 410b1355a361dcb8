/**
 * Colour for people at a terminal, never for programs: failures red, canaries and degraded numbers
 * yellow, health green. Off when stdout is no terminal, when NO_COLOR is set to anything but the empty
 * string (https://no-color.org), with --no-color, and always with --json. FORCE_COLOR (set, and not 0)
 * turns it on where stdout is no terminal (`less -R`, a CI log that shows colours), as Node's own
 * tools read it; NO_COLOR and --no-color still win.
 */
import type { CliContext } from './context';

export type Style = 'red' | 'yellow' | 'green' | 'dim';

/** Wraps text in a style, or returns it as it is when colour is off. */
export type Paint = (style: Style, text: string) => string;

const CODES: Readonly<Record<Style, string>> = { red: '31', yellow: '33', green: '32', dim: '2' };

export const plain: Paint = (_style, text) => text;

const ansi: Paint = (style, text) => (text === '' ? text : `\x1b[${CODES[style]}m${text}\x1b[0m`);

/** The sequences `ansi` writes, captured whole (a `split` keeps them at the odd places): nothing else. */
export const PAINT_SEQUENCE = new RegExp(`(\x1b\\[(?:0|${Object.values(CODES).join('|')})m)`);

/** Pure: whether this run's output may be coloured. */
export function colourEnabled(
  ctx: Pick<CliContext, 'tty' | 'env'>,
  flags: { readonly json: boolean; readonly noColor?: boolean },
): boolean {
  if (flags.json || flags.noColor) return false;
  if (ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== '') return false;
  const force = ctx.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  return ctx.tty;
}

export function painter(
  ctx: Pick<CliContext, 'tty' | 'env'>,
  flags: { readonly json: boolean; readonly noColor?: boolean },
): Paint {
  return colourEnabled(ctx, flags) ? ansi : plain;
}

/** The length a terminal shows: escape sequences take no cell. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
