/**
 * The inbound check, loaded by the first invocation (or the first `call()`): the layer ships it as its
 * own file (runtime-entry.js, LAYER_FILES in build.ts) next to index.js, and the outbound pipeline,
 * identity and the transports in files of their own. Why files: V8 compiles every byte of a file it
 * loads (esbuild's lazy module wrappers are parenthesized functions, compiled eagerly), so code a path
 * does not run must not be in a file that path loads; measured by bench/cold-start.bench.ts.
 * Besides MeshRuntime and wrapHandler it re-exports the modules the files required after it share with
 * it (LAYER_FILES in build.ts), so each is loaded once.
 */
export * from '../../shared/http-target';
export * from '../../shared/policy-rules';
export * from '../../shared/trace-header';
export * from './header-value';
export * from './identity/request-binding';
export { MeshRuntime } from './mesh-runtime';
export * from './metadata';
export * from './resilience/deadline';
export * from './routing/route-headers';
export { wrapHandler } from './wrapper';
