// In a whole run (scripts/test.js), the test files of some folders share a few processes instead of
// each starting its own. Most of them take well under a second; a process of its own cost each about
// half a second of CPU time more (Node, tsx, the test runner, coverage) and loaded again what its
// neighbours had loaded (aws-cdk-lib, ~1.5 s, for each file of test/infra). Measured on test/unit (101
// files): 93 s of CPU time one process per file, 20 s in one process; test/infra (22 files): 92 s and
// 37 s.
//
// Each file's tests run in a suite named after the file, so a failure names its file, and a file's
// top-level hooks (before, after) belong to that suite. The files of a group run one after another in
// its process: a file that leaves state behind (an environment variable, a timer, a server) shows as a
// failure of a later file of its group, and is fixed where it leaks. A run with a filter starts every
// file in a process of its own, as before.

const { mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** Folders whose files share processes, and how many processes each gets (balanced over the 3 slots). */
const GROUPED = { 'test/unit/': 3, 'test/infra/': 3 };

/** The test file that runs `files` (paths from `root`) in one process, one suite each. */
function groupSource(root, files) {
  return [
    '// Written by scripts/test-groups.js for one whole run: these test files in one process.',
    "const { describe } = require('node:test');",
    `for (const file of ${JSON.stringify(files)}) describe(file, () => require(require('node:path').join(${JSON.stringify(root)}, file)));`,
    '',
  ].join('\n');
}

/**
 * `files` with those of the GROUPED folders replaced by group files written into `dir` (emptied
 * first): the groups come first, so they start among the long files instead of after every small one.
 * Files are dealt to a folder's groups in turn, so neighbours in the alphabet (often of one topic and
 * of a like cost) spread over the groups.
 */
function groupFiles(root, files, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const groups = [];
  for (const [folder, count] of Object.entries(GROUPED)) {
    const members = files.filter((f) => f.startsWith(folder));
    const name = folder.split('/').filter(Boolean).slice(1).join('-');
    for (let g = 0; g < count; g++) {
      const share = members.filter((_, i) => i % count === g);
      if (share.length === 0) continue;
      const file = join(dir, `${name}-${g + 1}.test.js`);
      writeFileSync(file, groupSource(root, share));
      groups.push(file);
    }
  }
  const grouped = (f) => Object.keys(GROUPED).some((folder) => f.startsWith(folder));
  return { groups, rest: files.filter((f) => !grouped(f)) };
}

module.exports = { groupFiles };
