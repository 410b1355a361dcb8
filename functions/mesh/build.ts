/**
 * Builds the mesh layer asset (its layout: docs/wire-contract.md, "The layer"): one package,
 * nodejs/node_modules/lambda-mesh/, in several files, so each path of a function loads only the code it
 * runs (LAYER_FILES below: the init path, the inbound check, the outbound pipeline, AWS's wire, identity,
 * each HTTP transport), plus `runtime` (`module.exports = require('./wrapper.js')`, see ALIASES) and
 * package.json. @aws-sdk/* stays external: the Lambda Node.js runtime provides it (and the local mesh
 * puts the repo's node_modules on NODE_PATH). Run: `npx tsx functions/mesh/build.ts [outDir]`.
 *
 * Why files and not one bundle: V8 compiles every byte of a loaded file (esbuild's lazy module wrappers
 * are parenthesized functions, which V8 compiles eagerly), so code a path does not run must not be in a
 * file that path loads; bench/cold-start.bench.ts measures it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ENV, LAYER } from '../../shared/names';

export const DEFAULT_LAYER_DIR = resolve(__dirname, 'dist', 'layer');

/** How the mesh's Lambda code is bundled: minified CommonJS for Node 20+, the AWS SDK left to the runtime. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@aws-sdk/*'],
  logLevel: 'error',
  legalComments: 'none',
} as const;

/**
 * The TypeScript settings esbuild compiles the layer's sources with, in place of tsconfig.json's (the
 * only ones of those it reads for this code: strict mode, and class fields). Class fields are assigned
 * in the constructor, as TypeScript does with useDefineForClassFields off, instead of defined: a field
 * the constructor assigns is then not also declared in the class body (`options;client;`), and a class
 * has no field initializer function. The fields hold the same values from the constructor on; the code
 * reads none of them before it, nor enumerates an instance's own properties.
 */
const LAYER_TSCONFIG = { compilerOptions: { strict: true, useDefineForClassFields: false } };

/**
 * The layer package's package.json: its main, and nothing else a resolver reads. Not an `exports` map:
 * a CommonJS `require('lambda-mesh/runtime')` through a package with one loads Node's ES module
 * resolver, ~3 ms of CPU time on the first call of every handler that requires the runtime.
 */
export const LAYER_PACKAGE_JSON = { name: LAYER.moduleName, main: 'wrapper.js' };

/**
 * `lambda-mesh/runtime`: a file without an extension, so the name resolves as it is written both for
 * CommonJS (which tries the exact name before adding `.js`) and for an ES module handler, whose
 * resolution adds no extension (Lambda resolves its bare imports in the layers' node_modules from
 * nodejs18.x on). Node loads a file without an extension as CommonJS outside a `"type": "module"`
 * package, and an ES module importing it gets the names wrapper.js assigns, the error classes among
 * them: they live in wrapper.js only, so `instanceof` holds.
 */
const ALIASES = ['runtime'];

/**
 * The layer's files. Each bundles its entry (the first source) and what the entry imports, except the
 * sources another file provides: those it requires from that file at run time. A file provides its
 * entry and the sources listed after it, which the entry re-exports (`export *`): the modules the
 * files loaded after it share with it, loaded once. Every file but wrapper.js is required lazily.
 *
 * wrapper.js holds the entry (index.ts) itself, not an alias of it: it is the file Lambda loads as the
 * handler (wrapper.handler), and every module load on a cold sandbox's path costs ~0.25 ms.
 */
export const LAYER_FILES = {
  /**
   * Every wrapped function, at init and on its first request: the exports, the error classes, the
   * handler loader, and the inbound check (metadata, the policy cache and sealed snapshot,
   * the admission decision, telemetry, the runtime). One file: each of them runs on every cold start.
   */
  'wrapper.js': ['index.ts', 'errors.ts'],
  /** The first `call()`: the outbound pipeline (routing, resilience) and the Lambda Invoke transport. */
  'outbound.js': [
    'outbound-entry.ts',
    '../../shared/http-target.ts',
    'resilience/shared-breaker.ts',
    'telemetry/xray-emitter.ts',
    'resilience/rate-limit.ts',
    'async/event-envelope.ts',
  ],
  /** The first send to a channel, or the first batch of channel records: the channels' declarations. */
  'channel.js': ['../../shared/channel.ts'],
  /**
   * The first send to a channel: SQS, SNS or EventBridge on the wire, or through the SDK's clients (which
   * the Lambda runtime provides; they are required only on that path).
   */
  'channel-transport.js': ['transport/channel-transport.ts'],
  /** The first event that may be a batch (SQS, SNS, EventBridge): its records recognised and verified. */
  'event-sources.js': ['async/event-sources.ts'],
  /** The first signed AWS request: SigV4, endpoints, credentials, the keep-alive client. */
  'aws.js': ['aws/index.ts'],
  /**
   * The first policy table read (the policy cache's table half), and the item check (table items, a
   * snapshot synth did not seal).
   */
  'policy-table-query.js': ['policy/policy-table-reader.ts'],
  /** The first refused admission (a caller with no edge, a denied one, an unknown service): its wording. */
  'policy-refusal.js': ['policy/refusal-detail.ts'],
  /** Identity on: the identity secret, tokens, certificate checks. */
  'identity.js': ['identity/index.ts'],
  /** The first call to an HTTP target, and each HTTP transport on the first call that needs it. */
  'http-target.js': ['identity/http-target.ts', 'identity/http-exchange.ts', 'transport/http-transport.ts'],
  'sigv4-http.js': ['transport/sigv4-http.ts'],
  'mtls-http.js': ['transport/mtls-http.ts'],
  /** The local HTTP endpoint, opened at init when MESH_ENDPOINT_PORT is set. */
  'endpoint.js': ['endpoint.ts'],
  /** The local HTTP endpoint's answer, on its first connection. */
  'endpoint-request.js': ['endpoint-request.ts'],
  /** A deployment's ping (a pre-traffic check), answered instead of the handler. */
  'deploy-ping.js': ['deploy-ping.ts'],
  /** The first invocation of a service whose policy has a fault item: the injected delay or abort. */
  'inbound-fault.js': ['inbound-fault.ts'],
  /** The first breaker that opens with shared breakers on. */
  'shared-breaker-writer.js': ['resilience/shared-breaker-writer.ts'],
  /** The first call to a target under a mesh-wide rate limit: the lease of a slice from the table. */
  'rate-limit-table.js': ['resilience/rate-limit-table.ts'],
} as const;

/**
 * Modules several files bundle, each file the parts it uses: constants and functions whose only state
 * is a cache (trace-header's pool of random bytes for ids, policy-decision's memo of decisions per
 * policy copy). wrapper.js cannot re-export them without widening the public API of
 * `lambda-mesh/runtime`, and a file of their own would put code only calls run (metadata encoding,
 * SigV4 request lines, attempt deadlines, the policy model's defaults) in a file every invocation loads.
 */
const MAY_REPEAT = new Set([
  'shared/names.ts',
  'shared/loopback.ts',
  'functions/mesh/handler-loader.ts',
  'shared/policy-rules.ts',
  'shared/deploy-check.ts',
  'functions/mesh/policy/policy-snapshot.ts',
  'shared/snapshot-seal.ts',
  'functions/mesh/policy-decision.ts',
  'functions/mesh/policy/effective-policy.ts',
  'functions/mesh/policy/service-policy.ts',
  'shared/traffic-precedence.ts',
  'shared/trace-header.ts',
  'functions/mesh/metadata.ts',
  'functions/mesh/header-value.ts',
  'functions/mesh/resilience/deadline.ts',
  'functions/mesh/identity/request-binding.ts',
  'functions/mesh/routing/route-headers.ts',
  'functions/mesh/telemetry/monotonic-ms.ts',
  'functions/mesh/settles-soon.ts',
]);
export type LayerFile = keyof typeof LAYER_FILES;

export interface BuildLayerResult {
  /** The layer asset directory (the one to zip / hand to `Code.fromAsset`). */
  readonly outDir: string;
  /** Path of wrapper.js (the entry: the handler Lambda loads, and what the aliases require). */
  readonly bundle: string;
  /** Bytes of the layer's code before compression. */
  readonly bytes: number;
  /** Bytes of each file of LAYER_FILES. */
  readonly files: Record<LayerFile, number>;
}

const sourceOf = (rel: string) => resolve(__dirname, rel);

/** Which layer file provides each source of LAYER_FILES (absolute paths). */
function owners(): Map<string, LayerFile> {
  const owner = new Map<string, LayerFile>();
  for (const [file, sources] of Object.entries(LAYER_FILES) as [LayerFile, readonly string[]][]) {
    for (const s of sources) owner.set(sourceOf(s), file);
  }
  return owner;
}

/**
 * Bundles one layer file. The sources other files provide are external, and esbuild writes their
 * requires as paths relative to the output (`require("../../functions/mesh/aws/index.ts")`); those
 * become requires of the providing file (`require("./aws.js")`).
 */
function bundleLayerFile(file: LayerFile, pkgDir: string, owner: Map<string, LayerFile>) {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const others = [...owner].filter(([, f]) => f !== file).map(([source]) => source);
  const r = esbuild.buildSync({
    ...BUNDLE_OPTIONS,
    external: [...BUNDLE_OPTIONS.external, ...others],
    tsconfigRaw: LAYER_TSCONFIG,
    metafile: true,
    write: false,
    entryPoints: [sourceOf(LAYER_FILES[file][0])],
    outfile: join(pkgDir, file),
  });
  const out = Object.values(r.metafile!.outputs)[0]!;
  let text = r.outputFiles![0]!.text;
  for (const imp of out.imports) {
    const provider = imp.external ? owner.get(resolve(pkgDir, imp.path)) : undefined;
    if (provider) text = text.split(`require(${JSON.stringify(imp.path)})`).join(`require("./${provider}")`);
  }
  if (/require\("[^"]*\.ts"\)/.test(text)) throw new Error(`mesh layer: ${file} still requires a source file`);
  text = withExportsInPlace(text, esbuild, file === 'wrapper.js');
  writeFileSync(join(pkgDir, file), text);
  return { bytes: Buffer.byteLength(text), inputs: Object.keys(out.inputs) };
}

/**
 * esbuild's CommonJS output builds its exports on a new object and copies them to `module.exports`
 * (`module.exports = __toCommonJS(ns)`), with four helpers for the copy in every file: ~300 bytes
 * minified, ~150 gzipped, per file. Defining the getters on `exports` itself is the same module to its
 * requirers; the helpers are then unused, and a second esbuild pass (tree shaking, which knows the
 * scopes) drops them. A file that still uses them (`export *` of another file) keeps them; a file whose
 * output does not have this shape is left as esbuild wrote it.
 *
 * The entry (`entry`: wrapper.js, loaded by every cold sandbox) gets plain properties instead
 * (`exports.name = value`, `plainExports`): defining its ~20 getters cost init ~0.1 ms.
 */
function withExportsInPlace(text: string, esbuild: typeof import('esbuild'), entry: boolean): string {
  const defineProperty = /^"use strict";var ([\w$]+)=Object\.defineProperty;/.exec(text)?.[1];
  const exportsOf = /var ([\w$]+)=\{\};([\w$]+)\(\1,(\{[^{}]*\})\);module\.exports=[\w$]+\(\1\);/.exec(text);
  if (!defineProperty || !exportsOf) return text;
  const [all, ns, define, getters] = exportsOf;
  const esModule = `var ${ns}=exports;${defineProperty}(${ns},"__esModule",{value:!0});`;
  const inPlace = entry
    ? plainExports(
        text.replace(all, () => esModule),
        getters,
      )
    : `${esModule}${define}(${ns},${getters});`;
  const { minify, target, platform, legalComments } = BUNDLE_OPTIONS;
  return esbuild.transformSync(entry ? inPlace : text.replace(all, () => inPlace), {
    minify,
    target,
    platform,
    legalComments,
    format: 'cjs',
    treeShaking: true,
  }).code;
}

/**
 * The entry with its exports assigned as plain properties (`getters`: esbuild's `{name:()=>value}`),
 * just before its last statement: the boot at init (functions/mesh/index.ts), which loads the user's
 * module, which may require this file back and must then find every export. Earlier, the values are
 * not all defined yet (esbuild's getters read them when asked). `exports.name = ...` as written is also
 * what Node's loader reads to give an ES module importing this file its names.
 */
function plainExports(text: string, getters: string): string {
  const pairs = [...getters.slice(1, -1).matchAll(/([\w$]+):\(\)=>([\w$]+)(,|$)/g)];
  const listed = pairs.map((p) => p[0]).join('');
  const boot = new RegExp(`process\\.env\\.${ENV.handler}&&[^;]*;(?=0&&\\(module\\.exports=)`).exec(text);
  if (listed !== getters.slice(1, -1) || !boot) {
    throw new Error(
      "mesh layer: wrapper.js's exports or its boot at init (the last statement of functions/mesh/index.ts) " +
        'do not have the shape the build expects; see plainExports in functions/mesh/build.ts',
    );
  }
  const assign = pairs.map(([, name, value]) => `exports.${name}=${value};`).join('');
  return text.slice(0, boot.index) + assign + text.slice(boot.index);
}

/** Bundles functions/mesh into the layer layout under `outDir` (replaced). Synchronous: CDK synth calls it. */
export function buildLayer(outDir: string = DEFAULT_LAYER_DIR): BuildLayerResult {
  const root = resolve(outDir);
  const pkgDir = join(root, LAYER.packageDir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(pkgDir, { recursive: true });
  const files = {} as Record<LayerFile, number>;
  const owner = owners();
  /** Which layer file bundled each input: an input in two files would run twice, with two states. */
  const bundledIn = new Map<string, LayerFile>();
  for (const file of Object.keys(LAYER_FILES) as LayerFile[]) {
    const { bytes, inputs } = bundleLayerFile(file, pkgDir, owner);
    files[file] = bytes;
    for (const input of inputs) {
      if (input.includes('node_modules/zod/')) {
        // Building the zod schemas cost a cold sandbox more than the rest of its inbound check.
        throw new Error(
          `mesh layer: ${file} bundles zod (${input}); the runtime checks policy items with ` +
            'shared/policy-item-check.ts: import values from shared/policy-rules.ts, only types from shared/policy.ts',
        );
      }
      const other = bundledIn.get(input);
      if (other && !MAY_REPEAT.has(input)) {
        throw new Error(
          `mesh layer: ${input} is bundled in both ${other} and ${file}; ` +
            'give it one layer file (LAYER_FILES in functions/mesh/build.ts) and import it only through that file',
        );
      }
      bundledIn.set(input, file);
    }
  }
  for (const alias of ALIASES) writeFileSync(join(pkgDir, alias), "module.exports = require('./wrapper.js');\n");
  writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify(LAYER_PACKAGE_JSON)}\n`);
  const bytes = Object.values(files).reduce((n, b) => n + b, 0);
  return { outDir: root, bundle: join(pkgDir, 'wrapper.js'), bytes, files };
}

if (require.main === module) {
  const r = buildLayer(process.argv[2] ?? DEFAULT_LAYER_DIR);
  console.log(`lambda-mesh layer: ${dirname(r.bundle)} (${r.bytes} bytes)`);
  for (const [file, bytes] of Object.entries(r.files)) console.log(`  ${file.padEnd(26)} ${bytes}`);
}
