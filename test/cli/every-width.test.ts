/**
 * Every command that prints tables or prose, run as an operator runs it against the local mesh serving
 * the example shop (with checkouts flowing and payments' gated canary under way), at 40, 60, 80 and 120
 * columns: COLUMNS with stdout a pipe, and a sized pseudo-terminal (util-linux `script`). No line is
 * longer than the width unless it is one unbreakable token: a word (an ARN, a trace id), a command to
 * paste (in backticks, or after `run:`), or a line of code or an example in --help, kept as written.
 *
 * Each command runs as a `mesh` process at one of the widths (the next command at the next width), and
 * at the other widths in this process (main() with the same environment, its output captured): what
 * fits the width is the same code either way, and a process per command and width (some 150 of them,
 * each loading Node, the CLI and the AWS SDK) spent most of this file's CPU time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Traffic } from '../../local/traffic';
import { flowingCheckouts } from '../support/demo-traffic';
import { exampleAssemblies, startTestMesh, type TestMesh } from '../support/example-assembly';
import { meshArgs, type Run, run } from '../support/mesh-cli';
import { meshInProcess } from '../support/mesh-in-process';
import { MESH_LOCAL_ENV } from '../support/mesh-local-process';

const WIDTHS = [40, 60, 80, 120];

const COMMANDS: readonly (readonly string[])[] = [
  ['status'],
  ['stat'],
  ['policy', 'list'],
  ['check'],
  ['trace'],
  ['trace', '--last'],
  ['tap', '--count', '3'],
  // payments' canary is CodeDeploy's while the gated deployment runs: these are refused, and say why.
  ['rollout', 'payments', '--dry-run'],
  ['shift', 'payments', '50', '--dry-run'],
  ['promote', 'payments', '--dry-run'],
  ['rollback', 'payments', '--dry-run'],
  // orders has no canary and no promote behind it: the advice names a command to paste.
  ['rollback', 'orders', '--dry-run'],
  ['policy', 'deny', 'orders', 'payments', '--reason', 'incident 42 under investigation by the team', '--dry-run'],
  ['policy', 'allow', 'frontend', 'payments', '--dry-run'],
  ['policy', 'deny', 'mesh-deploy-check', 'payments', '--dry-run'],
  ['policy', 'delete', 'payments', 'allow#orders', '--dry-run'],
  ['shift', 'payments', '150'],
  ['shift', 'paymnts', '10'],
  ['stauts'],
];

const HELP: readonly (readonly string[])[] = [
  ['--help'],
  ...['status', 'shift', 'promote', 'rollback', 'rollout', 'policy', 'local', 'stat', 'trace', 'tap', 'check'].map(
    (c) => [c, '--help'],
  ),
];

/** One token however long: a word, a command in backticks, or a `run:` line of `mesh check`. */
const UNBREAKABLE = /^\s*(\S+|`[^`]+`[.,;:)]?|run: mesh .*)$/;

/** A line of code or an example in help: indented, no second column, as written without a width. */
const codeLine = (line: string, unfitted: string) =>
  /^ {2,3}\S/.test(line) && !/\S {2,}\S/.test(line.trim()) && unfitted.split('\n').includes(line);

/** The lines of the output (stdout, then stderr) longer than `width` that could have broken. */
function overflowing(r: Run, width: number, unfitted?: string): string[] {
  return `${r.stdout}\n${r.stderr}`
    .replaceAll('\r', '')
    .split('\n')
    .filter((l) => [...l].length > width && !UNBREAKABLE.test(l) && !(unfitted && codeLine(l, unfitted)));
}

describe('every command at every width', { skip: exampleAssemblies() === undefined && 'no example app' }, () => {
  let mesh: TestMesh;
  let traffic: Traffic;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    const { release1, release2 } = exampleAssemblies()!;
    mesh = await startTestMesh([release1, release2]);
    // A checkout a second: traces, stats and calls for `tap` to follow, on crowded cores too.
    traffic = await flowingCheckouts(mesh.url, 1, 1);
    env = { ...MESH_LOCAL_ENV, AWS_ENDPOINT_URL: mesh.url };
  });
  after(async () => {
    await traffic?.stop();
    await mesh?.stop();
  });

  const widthEnv = (width?: number) => (width === undefined ? env : { ...env, COLUMNS: String(width) });
  const piped = async (args: readonly string[], width?: number) =>
    run(process.execPath, await meshArgs(args), widthEnv(width));
  /** `mesh <args>` with COLUMNS at `width`: piped into a process at `processWidth`, run in this one at the others. */
  const atWidth = async (args: readonly string[], width: number, processWidth: number): Promise<Run> => {
    if (width === processWidth) return piped(args, width);
    const r = await meshInProcess(args, widthEnv(width));
    return { code: r.code, stdout: r.out, stderr: r.err };
  };
  /** The width the `index`th command runs at in a process of its own: every width for some command. */
  const processWidth = (index: number) => WIDTHS[index % WIDTHS.length]!;

  /** `mesh <args>` on a pseudo-terminal of `width` columns: the width comes from the terminal, not COLUMNS. */
  const onTerminal = async (args: readonly string[], width: number) => {
    const command = [process.execPath, ...(await meshArgs(args))].map((a) => `'${a.replaceAll("'", "'\\''")}'`);
    return run('script', ['-qfec', `stty cols ${width} rows 50; ${command.join(' ')}`, '/dev/null'], {
      ...env,
      NO_COLOR: '1',
    });
  };

  for (const [index, args] of COMMANDS.entries()) {
    it(`mesh ${args.join(' ')}: piped with COLUMNS`, async () => {
      for (const width of WIDTHS) {
        const r = await atWidth(args, width, processWidth(index));
        assert.deepEqual(overflowing(r, width), [], `at ${width}:\n${r.stdout}\n${r.stderr}`);
      }
    });
  }

  for (const [index, args] of HELP.entries()) {
    it(`mesh ${args.join(' ')}: piped with COLUMNS, and as written without`, async () => {
      const unfitted = (await piped(args)).stdout;
      for (const width of WIDTHS) {
        const r = await atWidth(args, width, processWidth(index));
        assert.deepEqual(overflowing(r, width, unfitted), [], `at ${width}:\n${r.stdout}`);
      }
    });
  }

  for (const args of [['status'], ['stat'], ['trace', '--last'], ['status', '--help']]) {
    it(`mesh ${args.join(' ')}: on a terminal 40 and 60 columns wide`, async () => {
      const unfitted = args.includes('--help') ? (await piped(args)).stdout : undefined;
      for (const width of [40, 60]) {
        const r = await onTerminal(args, width);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(overflowing(r, width, unfitted), [], `at ${width}:\n${r.stdout}`);
      }
    });
  }
});
