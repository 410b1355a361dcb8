#!/usr/bin/env node
// The `mesh` command. A plain-JS shim so a fresh clone runs it (`npx mesh`, `npm run mesh --`)
// without a build step: tsx compiles the TypeScript sources on the fly.

// The SDK's Node-version notices are for library users; an operator's stderr is for errors.
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { main } = require('../main.ts');
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
