// In a whole run (scripts/test.js), the test files of each folder share a few processes instead of each
// starting its own; only the longest files (START_FIRST) keep one each. Most files take a few seconds
// at most, and a process of its own cost each about half a second of CPU time more (Node, tsx, the
// test runner, coverage) and loaded again what its neighbours had loaded (aws-cdk-lib, ~1.5 s, for each
// file of test/infra; the local mesh, ~0.85 s). Measured without coverage: test/unit (101 files) 93 s
// of CPU time one process per file, 20 s in one process; test/infra (22 files) 92 s and 37 s; the 52
// integration files not among the longest 165 s (with coverage) and 88 s.
//
// Each file's tests run in a suite named after the file, so a failure names its file, and a file's
// top-level hooks (before, after) belong to that suite. The files of a group run one after another in
// its process: a file that leaves state behind (an environment variable, a module's cache, a server)
// shows as a failure of a later file of its group, and is fixed where it leaks. A run with a filter
// starts every file in a process of its own, as before.

const { mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** Folders whose files share processes, and how many processes each gets (the run keeps four busy). */
const GROUPED = { 'test/integration/': 3, 'test/security/': 1, 'test/infra/': 3, 'test/cli/': 1, 'test/unit/': 3 };

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
 * `files` (paths from `root`) as a whole run starts them, in the order `order` gives: a file it names
 * runs in a process of its own, a folder it names (`test/unit/`) stands for that folder's groups,
 * written into `dir` (emptied first). Groups of folders it does not name, then files of no grouped
 * folder, come last. Files are dealt to a folder's groups in turn, so neighbours in the alphabet (often
 * of one topic and of a like cost) spread over the groups.
 */
function groupFiles(root, files, order, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const alone = order.filter((entry) => !entry.endsWith('/'));
  const others = files.filter((f) => !alone.includes(f));
  const groups = new Map();
  for (const [folder, count] of Object.entries(GROUPED)) {
    const members = others.filter((f) => f.startsWith(folder));
    const name = folder.split('/').filter(Boolean).slice(1).join('-');
    const written = [];
    for (let g = 0; g < count; g++) {
      const share = members.filter((_, i) => i % count === g);
      if (share.length === 0) continue;
      const file = join(dir, `${name}-${g + 1}.test.js`);
      writeFileSync(file, groupSource(root, share));
      written.push(file);
    }
    groups.set(folder, written);
  }
  const out = [];
  for (const entry of order) {
    if (groups.has(entry)) {
      out.push(...groups.get(entry));
      groups.delete(entry);
    } else if (files.includes(entry)) out.push(entry);
  }
  for (const written of groups.values()) out.push(...written);
  const grouped = (f) => Object.keys(GROUPED).some((folder) => f.startsWith(folder));
  return [...out, ...others.filter((f) => !grouped(f))];
}

module.exports = { groupFiles };
