/**
 * Checks on the published package, as pure functions over lists and text (each has a compliant and a
 * non-compliant case in test/unit/package-checks.test.ts; test/package runs them on the real tarball).
 */

/** Top-level folders of this repository that must never ship: tests, benchmarks, the example shop. */
const NEVER_SHIPPED = [
  /^test\//,
  /^bench\//,
  /^functions\/demo\//,
  /(^|\/)shop-stack\.[jt]s$/,
  /(^|\/)infra\/app\.[jt]s$/,
];

/** Paths in the tarball (relative to the package root) that must not be there. */
export function forbiddenTarballPaths(paths: readonly string[]): string[] {
  return paths.filter((p) => NEVER_SHIPPED.some((re) => re.test(p)) || /\.test\.[jt]s$/.test(p));
}

/** What the tarball must hold: the compiled entries, the prebuilt layer and control functions, README, LICENSE. */
export const REQUIRED_TARBALL_PATHS = [
  'package.json',
  'README.md',
  'LICENSE',
  'cli/bin/mesh.js',
  'dist/infra/index.js',
  'dist/infra/index.d.ts',
  'dist/functions/mesh/index.d.ts',
  'dist/cli/main.js',
  'dist/runtime.js',
  'dist/assets/mesh-layer/nodejs/node_modules/lambda-mesh/wrapper.js',
  'dist/assets/mesh-layer/nodejs/node_modules/lambda-mesh/runtime',
  'dist/assets/policy-seeder/index.js',
  'dist/assets/issuer/index.js',
  'dist/assets/deploy-hook/index.js',
] as const;

export function missingTarballPaths(paths: readonly string[]): string[] {
  const have = new Set(paths);
  return REQUIRED_TARBALL_PATHS.filter((p) => !have.has(p));
}

/** Modules of the AWS SDK (and its Smithy core) among loaded module files: the constructs entry loads none. */
export function sdkModules(loadedFiles: readonly string[]): string[] {
  return loadedFiles.filter((f) => /[\\/]node_modules[\\/]@(aws-sdk|smithy)[\\/]/.test(f));
}

/** Files of the mesh runtime (the layer's bundle, its sources) among loaded module files. */
export function runtimeModules(loadedFiles: readonly string[]): string[] {
  return loadedFiles.filter((f) => /[\\/](assets[\\/]mesh-layer|functions[\\/]mesh)[\\/]/.test(f));
}

/** A file the README shows in full: a TypeScript block whose first line is `// <path>`. */
export interface ReadmeFile {
  readonly path: string;
  readonly source: string;
}

const TS_BLOCK = /```ts\n([\s\S]*?)```/g;

/** The README's TypeScript blocks. */
export function tsBlocks(readme: string): string[] {
  return [...readme.matchAll(TS_BLOCK)].map((m) => m[1]);
}

/** The files the README's walkthrough writes, in order (blocks starting with `// lib/x.ts` and the like). */
export function readmeFiles(readme: string): ReadmeFile[] {
  const out: ReadmeFile[] = [];
  for (const block of tsBlocks(readme)) {
    const first = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.ts)\n/.exec(block);
    if (first) out.push({ path: first[1], source: block });
  }
  return out;
}

/**
 * One use of a member in the README: `mesh.dashboard` on the construct, `mesh.call` on the runtime's
 * `mesh`, or in prose, where `mesh` may be either.
 */
export interface MemberUse {
  readonly on: 'Mesh' | 'runtime' | 'either';
  readonly member: string;
}

/**
 * Every member of a `Mesh` and of the runtime's `mesh` the README uses:
 * - in a TypeScript block, `x.member` where `const x = new Mesh(...)` in that block counts for Mesh,
 *   and `mesh.member` in a block that imports `lambda-mesh/runtime` counts for the runtime;
 * - in prose, an inline `` `mesh.member` `` must be a member of one of the two.
 */
export function readmeMemberUses(readme: string): MemberUse[] {
  const uses = new Map<string, MemberUse>();
  const add = (on: MemberUse['on'], member: string) => uses.set(`${on}.${member}`, { on, member });
  for (const block of tsBlocks(readme)) {
    for (const m of block.matchAll(/\b(?:const|let)\s+(\w+)\s*=\s*new\s+Mesh\(/g)) {
      for (const use of block.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))) add('Mesh', use[1]);
    }
    if (/from 'lambda-mesh\/runtime'/.test(block)) {
      for (const use of block.matchAll(/\bmesh\.(\w+)/g)) add('runtime', use[1]);
    }
  }
  const prose = readme.replace(TS_BLOCK, '').replace(/```[\s\S]*?```/g, '');
  for (const span of prose.matchAll(/`mesh\.(\w+)[^`]*`/g)) add('either', span[1]);
  return [...uses.values()];
}

/** The members declared on `Mesh` and on the runtime's `mesh`, as the published declarations say. */
export interface DeclaredMembers {
  readonly Mesh: ReadonlySet<string>;
  readonly runtime: ReadonlySet<string>;
}

/** The uses whose member is not declared where the README uses it. */
export function undeclaredUses(uses: readonly MemberUse[], declared: DeclaredMembers): MemberUse[] {
  return uses.filter((u) =>
    u.on === 'either' ? !declared.Mesh.has(u.member) && !declared.runtime.has(u.member) : !declared[u.on].has(u.member),
  );
}
