/**
 * The local mesh's own lines on stderr (`[mesh] ...`, `[endpoint] ...`, `[start] ...`). They quote text
 * the operator does not write: a deployment hook's message, a function's error, a name a function
 * printed. What they quote is shown as visible text (shared/terminal-text.ts), so no such text moves
 * the cursor, clears the screen or writes the clipboard of the terminal `npm start` runs in.
 */
import { printableLines } from '../../shared/terminal-text';

/** A logger of lines under `prefix`; `write` is stderr's (tests give their own). */
export function terminalLog(
  prefix: string,
  write: (text: string) => void = (text) => process.stderr.write(text),
): (line: string) => void {
  return (line) => write(`[${prefix}] ${printableLines(line)}\n`);
}
