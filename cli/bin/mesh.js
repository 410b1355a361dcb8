#!/usr/bin/env node
// The `mesh` command. In the installed package it runs the compiled CLI (dist/cli); in this repository,
// where the TypeScript sources sit beside it, tsx compiles them on the fly, so a fresh clone needs no build.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

// The SDK's Node-version notices are for library users; an operator's stderr is for errors.
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const source = join(__dirname, '..', 'main.ts');
let main;
if (existsSync(source)) {
  require('tsx/cjs');
  ({ main } = require(source));
} else {
  ({ main } = require('../../dist/cli/main.js'));
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() turns every expected failure into an exit code; reaching here is a bug in the CLI.
    process.stderr.write(`mesh: internal error: ${err?.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
