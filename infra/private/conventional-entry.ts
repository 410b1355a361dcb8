/**
 * NodejsFunction's entry when none is given: `<defining file>.<id>.ts` beside the file whose code
 * declared the function (or `.js`, `.mjs`, `.mts`, `.cts`, `.cjs`), that file found from the call
 * stack. NodejsFunction's own lookup takes the frame after its constructor, which for a MeshFunction
 * is MeshFunction's file in this package; so the frame after MeshFunction's constructor is taken here.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTENSIONS = ['.ts', '.js', '.mjs', '.mts', '.cts', '.cjs'];

/** The handler file by the convention, or the `.ts` path it would have (for the refusal to name). */
export function conventionalEntry(id: string, className: string): { entry?: string; lookedFor?: string } {
  const file = definingFile(className);
  if (!file) return {};
  const base = file.slice(0, file.length - extname(file).length);
  const entry = EXTENSIONS.map((ext) => `${base}.${id}${ext}`).find((f) => existsSync(f));
  return entry ? { entry } : { lookedFor: `${base}.${id}${EXTENSIONS[0]}` };
}

/** The file of the code that called the constructor of `className` (an ES module's as a path, not a URL). */
function definingFile(className: string): string | undefined {
  const { prepareStackTrace, stackTraceLimit } = Error;
  try {
    Error.prepareStackTrace = (_err, sites) => sites;
    Error.stackTraceLimit = 50;
    const sites = new Error().stack as unknown as NodeJS.CallSite[];
    const at = sites.findIndex((s) => s.getFunctionName() === className);
    const file = at >= 0 ? (sites[at + 1]?.getFileName() ?? undefined) : undefined;
    return file?.startsWith('file://') ? fileURLToPath(file) : file;
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
}
