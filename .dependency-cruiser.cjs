// The map of which folder may import which (docs/architecture.md, "The map"), as dependency-cruiser
// rules. test/unit/layering.test.ts runs them over the sources on every `npm test`; by hand:
// npx depcruise infra functions shared cli local
//
// Paths are relative to the repository root. A rule names what must never be; everything else is allowed.

/** aws-cdk-lib and constructs, resolved (node_modules/...) or not. */
const CDK = '(^|/)(aws-cdk-lib|constructs)(/|$)';

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const forbidden = [
  {
    name: 'shared-is-the-base',
    comment: 'shared/ (names, policy model, telemetry model) is imported by every side and imports none of them',
    severity: 'error',
    from: { path: '^shared/' },
    to: { path: '^(functions|infra|cli|local|test|bench|scripts)/' },
  },
  {
    name: 'cdk-only-in-infra',
    comment:
      'aws-cdk-lib and constructs are for the constructs: the runtime, the CLI and the local mesh never load them',
    severity: 'error',
    from: { path: '^(functions|shared|cli|local)/' },
    to: { path: CDK },
  },
  {
    name: 'runtime-stands-alone',
    comment: 'the data plane (functions/mesh) is the layer: it bundles shared/ and nothing else of the repository',
    severity: 'error',
    from: { path: '^functions/mesh/' },
    to: { path: '^(functions/(control|demo)|infra|cli|local|functions/build\\.ts)' },
  },
  {
    name: 'control-reads-runtime-identity-only',
    comment:
      'control-plane functions check what they issue with the runtime identity code (functions/mesh/identity); the pre-traffic hook calls a new version as a mesh caller does (metadata, Invoke transport); nothing else of the runtime',
    severity: 'error',
    from: { path: '^functions/control/' },
    to: {
      path: '^functions/mesh/',
      pathNot: '^functions/mesh/(identity/|metadata\\.ts$|client-context\\.ts$|transport/lambda-invoke\\.ts$)',
    },
  },
  {
    name: 'demo-uses-the-public-runtime',
    comment: 'the example services import lambda-mesh/runtime (functions/mesh/index.ts) as any app does',
    severity: 'error',
    from: { path: '^functions/demo/' },
    to: { path: '^(functions|infra|cli|local|shared)/', pathNot: '^functions/mesh/index\\.ts$' },
  },
  {
    name: 'infra-never-imports-code-it-deploys',
    comment:
      'the constructs hand configuration to the runtime through shared/names.ts (environment, table, layer layout), never by importing it',
    severity: 'error',
    from: { path: '^infra/' },
    to: { path: '^(functions|cli|local)/' },
  },
  {
    name: 'cli-uses-the-local-mesh-entry-only',
    comment:
      'the CLI reaches the local mesh through its entries (local/mesh-local.ts, the flags it shares with npm start, and local/watch/ for --watch) and its HTTP routes, not its internals',
    severity: 'error',
    from: { path: '^cli/' },
    to: { path: '^local/', pathNot: '^local/(mesh-local\\.ts|local-flags\\.ts|watch/)' },
  },
  {
    name: 'cli-deploys-nothing',
    comment: 'the CLI talks to AWS (or the local endpoint) over the wire: no constructs, no runtime internals',
    severity: 'error',
    from: { path: '^cli/' },
    to: { path: '^(infra|functions)/' },
  },
  {
    name: 'local-never-imports-the-cli',
    comment:
      'the local mesh serves the CLI over HTTP (shared/telemetry/local-mesh-routes.ts); it does not call into it',
    severity: 'error',
    from: { path: '^local/' },
    to: { path: '^cli/' },
  },
  {
    name: 'local-runs-what-would-deploy',
    comment:
      'the local mesh runs the synthesized assets (the built layer, the bundled functions), so it never imports the runtime or the constructs',
    severity: 'error',
    from: { path: '^local/' },
    to: { path: '^(functions/mesh|functions/demo|infra)/' },
  },
  {
    name: 'local-endpoint-and-telemetry-are-leaves',
    comment:
      'the AWS endpoint and the telemetry store stand on shared/ alone; the rest of the local mesh builds on them',
    severity: 'error',
    from: { path: '^local/(endpoint|telemetry)/' },
    to: { path: '^local/', pathNot: '^local/(endpoint|telemetry)/' },
  },
  {
    name: 'no-tests-in-sources',
    comment: 'tests, benchmarks and scripts use the sources, never the other way round',
    severity: 'error',
    from: { path: '^(functions|shared|infra|cli|local)/' },
    to: { path: '^(test|bench|scripts)/' },
  },
  {
    name: 'no-cycles',
    comment: 'modules that import each other (type-only imports aside) cannot be understood or changed one at a time',
    severity: 'error',
    from: {},
    to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
  },
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|cdk\\.out[^/]*|\\.mesh)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
