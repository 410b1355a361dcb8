/**
 * `mesh local` and `npm start` share their local-mesh flags: the same mistake gets the same answer
 * from both, and each keeps its own defaults.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLocalArgs } from '../../cli/commands/local';
import { UsageError } from '../../cli/errors';
import { parseStartArgs } from '../../local/start-command';

const refusal = (parse: () => unknown): string => {
  try {
    parse();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('accepted');
};

test('a bad shared flag gets one answer from mesh local and npm start', () => {
  const cases: [string[], RegExp][] = [
    [['--port', '70000'], /^--port "70000" is not a port number; use 0-65535, e.g. --port 4566/],
    [['--port=-1'], /^--port "-1" is not a port number/],
    [['--port', '4566x'], /^--port "4566x" is not a port number/],
    [['--deployment-speed', '0'], /^--deployment-speed "0" must be a number above 0 and at most 600/],
    [['--deployment-speed', '601'], /^--deployment-speed "601" must be a number above 0 and at most 600/],
    [['--watch', '--assembly', 'cdk.out'], /^--watch synthesizes the (example )?app on every edit: drop --assembly/],
  ];
  for (const [args, message] of cases) {
    const local = refusal(() => parseLocalArgs(args));
    const start = refusal(() => parseStartArgs(args));
    assert.match(local, message, `mesh local ${args.join(' ')}`);
    assert.match(start, message, `npm start -- ${args.join(' ')}`);
  }
  assert.throws(() => parseLocalArgs(['--port', '70000']), UsageError, 'mesh exits 2 on it');
});

test('unknown flags, missing values and stray arguments name the token and the help', () => {
  assert.equal(
    refusal(() => parseStartArgs(['--bogus'])),
    'unknown option --bogus; try npm start -- --help',
  );
  assert.equal(
    refusal(() => parseStartArgs(['--no-trafic'])),
    'unknown option --no-trafic (did you mean "--no-traffic"?); try npm start -- --help',
  );
  assert.equal(
    refusal(() => parseStartArgs(['--rps'])),
    '--rps needs a value, e.g. --rps <value>; try npm start -- --help',
  );
  assert.equal(
    refusal(() => parseStartArgs(['extra'])),
    'unexpected argument extra; try npm start -- --help',
  );
  assert.match(
    refusal(() => parseStartArgs(['--rps', 'lots'])),
    /^--rps "lots" must be a positive number/,
  );
  assert.match(
    refusal(() => parseStartArgs(['--help'])),
    /^usage: npm start -- /,
  );
});

test('each keeps its defaults: the demo runs 5x faster than CodeDeploy, mesh local at its pace', () => {
  const start = parseStartArgs([]);
  assert.deepEqual(
    { port: start.port, host: start.host, traffic: start.traffic, rps: start.rps, speed: start.deploymentSpeed },
    { port: 4566, host: '127.0.0.1', traffic: true, rps: 20, speed: 5 },
  );
  const local = parseLocalArgs([]);
  assert.ok(local !== 'help');
  assert.equal(local.deploymentSpeed, 1);
  assert.equal(local.port, undefined, 'mesh local picks its port unless told');
  const given = parseStartArgs(['--port=0', '--no-traffic', '--rps', '5', '--assembly', 'a', '--assembly', 'b']);
  assert.deepEqual([given.port, given.traffic, given.rps, given.assemblies], [0, false, 5, ['a', 'b']]);
});

test('both hold functions to their IAM unless told --no-iam', () => {
  const local = parseLocalArgs([]);
  assert.ok(local !== 'help');
  assert.equal(local.enforceIam, true);
  assert.equal(parseStartArgs([]).enforceIam, true);
  const off = parseLocalArgs(['--no-iam']);
  assert.ok(off !== 'help');
  assert.equal(off.enforceIam, false);
  assert.equal(parseStartArgs(['--no-iam']).enforceIam, false);
});
