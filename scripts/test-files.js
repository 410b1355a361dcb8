#!/usr/bin/env node
// `node --test <files>` that starts the files in the order given. Node 20's `--test` sorts its files by
// path before it runs them (so test/cli/* started first and test/package/* near the end, whatever order
// scripts/test.js listed them in); its run() API keeps the order of the files it is handed.
//
// Usage, with the flags `node --test` takes, which reach each test file's process as they do there:
//   node [--require ...] --test-concurrency=4 --test-timeout=<ms> \
//     --test-reporter=spec --test-reporter-destination=stdout [--test-reporter=<file> ...] \
//     scripts/test-files.js <file>...
// Exits 1 when a test or a file failed.

const { createWriteStream } = require('node:fs');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const { run } = require('node:test');
const reporters = require('node:test/reporters');

/** The value of each `--<name>=<value>` or `--<name> <value>` among Node's own flags, in order. */
function flagValues(name) {
  const out = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith(`--${name}=`)) out.push(argv[i].slice(name.length + 3));
    else if (argv[i] === `--${name}`) out.push(argv[++i]);
  }
  return out;
}

function numberFlag(name) {
  const [value] = flagValues(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`test-files: --${name}=${value} is not valid: give a whole number of 1 or more`);
    process.exit(2);
  }
  return n;
}

/** A reporter as `--test-reporter` names it: one of Node's own, or a module's default export. */
async function loadReporter(name) {
  if (!Object.hasOwn(reporters, name)) return (await import(pathToFileURL(resolve(name)).href)).default;
  const reporter = reporters[name];
  // spec is a Transform class, the others generator functions.
  return /^class\b/.test(Function.prototype.toString.call(reporter)) ? new reporter() : reporter;
}

function destination(name) {
  if (name === undefined || name === 'stdout') return process.stdout;
  if (name === 'stderr') return process.stderr;
  return createWriteStream(name);
}

async function main() {
  const files = process.argv.slice(2).map((f) => resolve(f));
  const names = flagValues('test-reporter');
  const destinations = flagValues('test-reporter-destination');
  // Every reporter is ready before the run starts, so none misses its first events.
  const loaded = await Promise.all((names.length > 0 ? names : ['spec']).map(loadReporter));
  const stream = run({ files, concurrency: numberFlag('test-concurrency'), timeout: numberFlag('test-timeout') });
  stream.on('test:fail', () => {
    process.exitCode = 1;
  });
  for (const [i, reporter] of loaded.entries()) stream.compose(reporter).pipe(destination(destinations[i]));
}

main();
