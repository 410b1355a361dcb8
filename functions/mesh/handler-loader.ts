/**
 * Loads the user's handler named by MESH_HANDLER (`file.export`, `dir/file.export`, `file.ns.export`)
 * from LAMBDA_TASK_ROOT, as Lambda's Node runtime does: `.js`, `.cjs`, `.mjs` (and `index.mjs`
 * style ESM), CommonJS through `require`, ESM through `import()`. CommonJS loads synchronously at
 * init; ESM resolves before the first invocation.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export type AnyHandler = (
  event: unknown,
  context: unknown,
  callback?: (err: unknown, result?: unknown) => void,
) => unknown;

/** A load failure, in the runtime's own error names so it reads like Lambda's. */
export class HandlerLoadError extends Error {
  constructor(
    name: 'Runtime.ImportModuleError' | 'Runtime.HandlerNotFound' | 'Runtime.MalformedHandlerName',
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

export interface HandlerSpec {
  readonly file: string;
  readonly exportPath: readonly string[];
}

/** Resolves `dir/file.export` against the task root to an existing file. */
export function resolveHandler(spec: string | undefined, taskRoot: string): HandlerSpec {
  if (!spec)
    throw new HandlerLoadError(
      'Runtime.MalformedHandlerName',
      'MESH_HANDLER is not set; set it to the original handler, e.g. "index.handler"',
    );
  // The module part may contain dots in directory names; the export is after the first dot of the last segment.
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0 || dot === spec.length - 1) {
    throw new HandlerLoadError(
      'Runtime.MalformedHandlerName',
      `MESH_HANDLER "${spec}" must be "file.export" (e.g. "index.handler" or "src/app.handler")`,
    );
  }
  const modulePart = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1).split('.');
  // As Lambda's runtime resolves it. path.resolve has run in this process before (Node's module loader
  // uses it); path.join would be compiled for this call alone.
  const base = resolve(taskRoot, modulePart);
  for (const ext of ['.js', '.mjs', '.cjs', '']) {
    const f = base + ext;
    // existsSync, as Lambda's runtime checks: statSync builds a Stats object, which cost a cold
    // sandbox ~0.2 ms; only the name without an extension may be a directory of that name.
    if (existsSync(f) && (ext !== '' || statSync(f).isFile())) return { file: f, exportPath };
  }
  throw new HandlerLoadError(
    'Runtime.ImportModuleError',
    `Cannot find module '${modulePart}' (tried .js, .mjs, .cjs under ${taskRoot}); check MESH_HANDLER "${spec}"`,
  );
}

function pick(mod: unknown, spec: HandlerSpec): AnyHandler {
  const fn = exported(mod, spec);
  return typeof fn === 'function' ? (fn as AnyHandler) : fromDefault(mod, spec);
}

function exported(mod: unknown, spec: HandlerSpec): unknown {
  let fn: unknown = mod;
  for (const part of spec.exportPath) fn = fn == null ? undefined : (fn as Record<string, unknown>)[part];
  return fn;
}

/** ESM importing CJS puts module.exports on `default`. */
function fromDefault(mod: unknown, spec: HandlerSpec): AnyHandler {
  const fn = mod && typeof mod === 'object' && 'default' in mod ? exported(mod.default, spec) : undefined;
  if (typeof fn !== 'function') {
    throw new HandlerLoadError(
      'Runtime.HandlerNotFound',
      `${spec.file} has no function export "${spec.exportPath.join('.')}"; check MESH_HANDLER`,
    );
  }
  return fn as AnyHandler;
}

/**
 * A real dynamic import even in the CJS bundle (esbuild/tsc would turn `import()` into `require`),
 * made on the first ES module: compiling it cost every cold sandbox's init ~0.1 ms.
 */
let dynamicImport: ((url: string) => Promise<unknown>) | undefined;

/** CommonJS: the handler at once. ESM: a promise of it. */
export function loadHandler(spec: string | undefined, taskRoot: string): AnyHandler | Promise<AnyHandler> {
  const resolved = resolveHandler(spec, taskRoot);
  if (resolved.file.endsWith('.mjs')) return importHandler(resolved);
  let mod: unknown;
  try {
    mod = require(resolved.file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM') return importHandler(resolved);
    throw err;
  }
  return pick(mod, resolved);
}

/**
 * An ES module's handler. A failed import is Lambda's `Runtime.ImportModuleError`, and the promise is
 * marked handled at once: it rejects at the first invocation, which awaits it, instead of ending the
 * process at init as an unhandled rejection.
 */
function importHandler(resolved: HandlerSpec): Promise<AnyHandler> {
  const { pathToFileURL } = require('node:url') as typeof import('node:url');
  dynamicImport ??= new Function('u', 'return import(u)') as (url: string) => Promise<unknown>;
  const handler = dynamicImport(pathToFileURL(resolved.file).href).then(
    (m) => pick(m, resolved),
    (err: unknown) => {
      throw new HandlerLoadError('Runtime.ImportModuleError', String(err));
    },
  );
  handler.catch(() => undefined);
  return handler;
}

/** Calls a loaded handler, async or callback-style (three parameters), as Lambda's Node.js runtime does. */
export function callHandler(fn: AnyHandler, event: unknown, context: unknown): Promise<unknown> {
  if (fn.length >= 3) return callWithCallback(fn, event, context);
  try {
    return Promise.resolve(fn(event, context));
  } catch (err) {
    return Promise.reject(err);
  }
}

function callWithCallback(fn: AnyHandler, event: unknown, context: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const r = fn(event, context, (err, result) => (err ? reject(err) : resolve(result)));
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(resolve, reject);
  });
}
