// Mutation testing of the mesh's decisions: `npm run mutation` (scripts/mutation.js), also run by
// .ci/run after `npm test`. Each test file runs in its own Node process through Stryker's tap runner
// (Node's test runner prints TAP when its output is not a terminal), and coverage is collected per
// test file, so each mutant runs only the files that reach its code.

/** The decision modules: pure code, no I/O. A new stage of the outbound pipeline is one line here. */
const decisions = [
  'functions/mesh/resilience/*.ts',
  // Write DynamoDB items: I/O, exercised by the wire tests against dynalite.
  '!functions/mesh/resilience/shared-breaker-writer.ts',
  '!functions/mesh/resilience/rate-limit-table.ts',
  'functions/mesh/routing/*.ts',
  'functions/mesh/policy/*.ts',
  'functions/mesh/identity/identity-token.ts',
  'functions/mesh/identity/identity.ts',
  'functions/mesh/identity/certificate-check.ts',
  'functions/mesh/identity/replay-cache.ts',
  'functions/mesh/policy-decision.ts',
  // The outbound pipeline's stages; send and mirror are the transport edge, errors.ts a re-export.
  'functions/mesh/pipeline/*.ts',
  '!functions/mesh/pipeline/{send,mirror,errors}.ts',
  'shared/policy.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: decisions,
  testRunner: 'tap',
  tap: {
    // The decisions' own unit tests (named after their folder). Each file is a Node process per mutant
    // that reaches it, so the other unit tests (local mesh, telemetry, packaging) would add their start-up
    // to every mutant they happen to load without being what tests the decision. identity-bundle
    // measures the bundled size of the identity module, which instrumented code exceeds.
    testFiles: [
      'test/unit/{resilience,routing,policy,pipeline,runtime}-*.test.ts',
      'test/unit/identity-!(bundle).test.ts',
    ],
    // tsx's CommonJS hook only: the tests are CommonJS, and it starts faster than `--import tsx`.
    nodeArgs: ['--require', 'tsx/cjs', '--test-reporter=tap'],
  },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level code: the zod schemas, constant tables) would each run every test
  // file, which is most of the run's time; they are left out and counted as ignored.
  ignoreStatic: true,
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The last run's results are checked in: a run re-tests only the mutants whose file or covering test
  // files changed since, and takes the rest from the file (Stryker's incremental mode); this is what
  // keeps a CI run within its time. `npm run mutation -- --force` re-tests every mutant.
  incremental: true,
  incrementalFile: 'test/mutation/stryker-incremental.json',
  concurrency: 2,
  timeoutMS: 10_000,
  // The first run, of every test file one after the other with coverage, takes 1 to 2 minutes on a quiet
  // machine; Stryker's default of 5 was seen running out on a crowded one.
  dryRunTimeoutMinutes: 20,
  reporters: ['progress-append-only', 'clear-text', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  // scripts/mutation.js applies the threshold after setting aside the equivalent mutants listed in
  // test/mutation/equivalent-mutants.json.
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
