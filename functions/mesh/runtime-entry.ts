/**
 * The inbound check, loaded by the first invocation (or the first `call()`): the layer ships it as its
 * own file (runtime-entry.js, LAYER_FILES in build.ts) next to index.js, and the outbound pipeline,
 * identity and the transports in files of their own. Why files: V8 compiles every byte of a file it
 * loads (esbuild's lazy module wrappers are parenthesized functions, compiled eagerly), so code a path
 * does not run must not be in a file that path loads; measured by bench/cold-start.bench.ts.
 * It exports what the entry (wrapper.js) uses and the parts of the inbound check deploy-ping.js shares; the pure
 * modules it shares with later files (metadata, trace header, deadlines, the policy model's rules)
 * are bundled by each file that uses them, each keeping the functions it calls (MAY_REPEAT, build.ts).
 */
export { MeshRuntime } from './mesh-runtime';
export * from './policy/policy-snapshot';
export * from './policy-decision';
export { wrapHandler } from './wrapper';
