/**
 * The part of the runtime loaded on first use (first invocation or first `call()`): the layer ships
 * it as its own file (`runtime.js`) next to index.js. Why a second file: V8 compiles esbuild's lazy
 * module wrappers eagerly (parenthesized functions), so every byte in index.js costs cold start even
 * when it never runs; measured by bench/runtime.bench.ts ("cold start" row).
 */
export { MeshRuntime } from './mesh-runtime';
export { wrapHandler } from './wrapper';
