/**
 * Text from outside the operator's hands, made safe to show at a terminal. Service names (EMF
 * dimensions), access-log lines, trace annotations, policy items and AWS error messages are written by
 * functions and callers the operator does not control. A terminal acts on the control characters in
 * them: ESC starts sequences that move the cursor, clear the screen, retitle the window or write the
 * clipboard (OSC 52); CR and newline let a value overwrite or add rows of a table; bidirectional
 * overrides make a name read as another ("Trojan Source", CVE-2021-42574). Each such character is
 * shown instead as the escape JSON would write (`\u001b`), so the operator sees that it is there and
 * the terminal acts on nothing. The `mesh` commands and the local mesh's live view (`npm start`) show
 * through it. Pure.
 */
/**
 * C0 controls (newline and tab too: a value is one cell of one line), DEL, C1 controls (8-bit CSI and
 * OSC, which some terminals act on), the bidirectional marks, embeddings, overrides and isolates, the
 * line and paragraph separators, and the characters that show as nothing between two others (the
 * zero-width space, the word joiner and invisible operators, the byte order mark), by which
 * `or\u200bders` would read as `orders`. The zero-width joiners of emoji sequences stay.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One value as one line of visible text: every control or direction character shown as its escape. */
export function printable(value: string): string {
  return value.replace(UNSAFE, escaped);
}

/** A message of one or more lines (an error quoting names): its own lines kept, each line printable. */
export function printableLines(message: string): string {
  return message.split('\n').map(printable).join('\n');
}
