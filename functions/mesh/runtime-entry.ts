/**
 * The part of the runtime loaded on first use (first invocation or first `call()`): the layer ships
 * it as its own file (`runtime.js`) next to index.js. Why a second file: V8 compiles esbuild's lazy
 * module wrappers eagerly (parenthesized functions), so every byte in index.js costs cold start even
 * when it never runs; measured by bench/runtime.bench.ts ("cold start" row).
 */
export { MeshRuntime } from './mesh-runtime';
export { wrapHandler } from './wrapper';

// Loaded once, here, for the files required after this one (LAYER_FILES in build.ts).
export * from '../../shared/http-target';
export * from '../../shared/policy';
export * from '../../shared/trace-header';
export * from './header-value';
export * from './identity/request-binding';
export * from './metadata';
export * from './resilience/deadline';
