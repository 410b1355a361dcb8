#!/usr/bin/env node
// `npm start`: the whole mesh on this machine (no Docker, no AWS account). See docs/local-mesh.md.
// A thin launcher: tsx compiles the TypeScript on the fly, local/start-command.ts does the work.

// The SDK's Node-version notices would scroll the live view away (workers inherit nothing of this).
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
require('../local/start-command.ts')
  .main(process.argv.slice(2))
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`npm start: ${err?.message ? err.message : err}\n`);
    process.exit(1);
  });
