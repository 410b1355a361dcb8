/**
 * fitHelp: help written by hand about 100 columns wide, fitted to a width. Prose is broken again between
 * words, an option keeps its two columns (its description under its own column), an example or a line
 * of code is never broken; without a width the text is exactly as written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECK_HELP } from '../../cli/commands/check';
import { ROLLOUT_HELP } from '../../cli/commands/rollout';
import { STAT_HELP } from '../../cli/commands/stat';
import { TAP_HELP } from '../../cli/commands/tap';
import { TRACE_HELP } from '../../cli/commands/trace';
import { COMMAND_HELP, MAIN_HELP } from '../../cli/help';
import { fitHelp } from '../../cli/help-fit';

const HELP = {
  main: MAIN_HELP,
  ...COMMAND_HELP,
  rollout: ROLLOUT_HELP,
  check: CHECK_HELP,
  stat: STAT_HELP,
  tap: TAP_HELP,
  trace: TRACE_HELP,
};
const words = (text: string) => text.split(/\s+/).filter(Boolean);
/** The lines of a help kept as written: examples and code (indented, no two-column gap, no bullet). */
const codeLines = (text: string) =>
  text.split('\n').filter((l) => /^ {2}(mesh |\[|\s\{)/.test(l) && !/\S {2,}\S/.test(l.trim()));

describe('fitHelp', () => {
  it('leaves every help as written when no width is known', () => {
    for (const text of Object.values(HELP)) assert.equal(fitHelp(text, undefined), text);
  });

  for (const width of [40, 60, 80, 120]) {
    it(`at ${width} columns: every line fits but code, and every word is still there`, () => {
      for (const [name, text] of Object.entries(HELP)) {
        const fitted = fitHelp(text, width);
        const code = new Set(codeLines(text));
        for (const line of fitted.split('\n')) {
          if (line.length <= width || code.has(line)) continue;
          // A command in backticks stays whole, on a line of its own.
          assert.match(line, /^\s*`[^`]+`[.,;:]?$/, `${name} at ${width}: ${line}`);
        }
        assert.deepEqual(words(fitted), words(text), name);
      }
    });
  }

  it('re-breaks a paragraph, keeps an option in two columns and an example whole', () => {
    const fitted = fitHelp(ROLLOUT_HELP, 60);
    assert.match(fitted, /^mesh rollout <service> \[--steps 10,25,50,100\] \[--interval\n {13}30s\]/);
    assert.match(
      fitted,
      /\n {2}--steps <list> {9}canary shares in percent,\n {25}increasing \(default 10,25,50,100\)\n/,
    );
    assert.match(fitted, /\n {2}- a failed gate rolls back at once \(weights cleared, the\n {4}stable/);
    assert.ok(
      fitted.includes('\n  mesh rollout payments --steps 10,50,100 --interval 1m --min-success 99.5 --max-p99 300ms'),
    );
  });

  it('puts a description under its option where the column leaves it too little room', () => {
    const fitted = fitHelp(COMMAND_HELP.policy!, 40);
    assert.match(fitted, /\n {2}mesh policy allow <from> <to> \[--json\]\n {6}let <from> call <to>: removes\n/);
    // A subcommand's usage too long for the line breaks between words, a little in.
    assert.match(fitted, /\n {2}mesh policy list \[--service <s>\]\n {4}\[--json\]\n {6}the policy table's items\n/);
    assert.match(fitted, /\n {2}--mesh <name>\n {6}pick a mesh when several are\n/);
  });
});
