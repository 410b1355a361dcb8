/**
 * Watches an app's sources for edits, as `cdk watch` does: cdk.json's `watch.include` / `watch.exclude`
 * globs (relative to the app's folder), the output directories, node_modules and .git always left out.
 * Changes are batched: the callback gets every file that changed in one quiet `debounceMs`.
 * Each directory is watched on its own (new ones as they appear): Node 20's recursive watch on Linux
 * watches files, and loses a file an editor saves by renaming a temporary file over it.
 */
import { existsSync, type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface WatchPatterns {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Never worth a re-synthesis: build output, dependencies, VCS, the local mesh's own files. */
const ALWAYS_EXCLUDED = ['node_modules', '.git', 'cdk.out*', '.mesh', '**/*.d.ts', '**/.*.swp', '**/*~'];

/** cdk.json's `watch` settings (include defaults to everything), plus what is never watched. */
export function watchPatterns(root: string, extraExclude: readonly string[] = []): WatchPatterns {
  const file = join(root, 'cdk.json');
  const settings = existsSync(file)
    ? ((JSON.parse(readFileSync(file, 'utf8')) as { watch?: { include?: unknown; exclude?: unknown } }).watch ?? {})
    : {};
  const list = (v: unknown) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.map(String) : undefined);
  return {
    include: list(settings.include) ?? ['**'],
    exclude: [...(list(settings.exclude) ?? []), ...ALWAYS_EXCLUDED, ...extraExclude],
  };
}

/** A glob (`**`, `*`, `?`) as a regular expression over a relative path with `/` separators. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}

/** Pure: whether a relative path is watched. A pattern naming a directory covers what is under it. */
export function isWatched(path: string, patterns: WatchPatterns): boolean {
  const p = path.split(sep).join('/');
  const matches = (globs: readonly string[]) => globs.some((g) => globRegExp(g).test(p));
  return matches(patterns.include) && !matches(patterns.exclude);
}

export interface SourceWatcher {
  close(): void;
}

/** Pure: whether a directory is left out (an exclude pattern names it or what contains it). */
function isExcludedDir(path: string, patterns: WatchPatterns): boolean {
  const p = path.split(sep).join('/');
  return p !== '' && patterns.exclude.some((g) => globRegExp(g).test(p));
}

/** Calls `onChange` with the files changed in each quiet period of `debounceMs`. */
export function watchSources(
  root: string,
  patterns: WatchPatterns,
  onChange: (files: string[], firstSeenAt: number) => void,
  debounceMs = 150,
): SourceWatcher {
  let pending = new Set<string>();
  let firstSeenAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const watchers = new Map<string, FSWatcher>();

  const changed = (path: string) => {
    const rel = relative(root, path);
    if (!isWatched(rel, patterns)) return;
    if (pending.size === 0) firstSeenAt = Date.now();
    pending.add(rel.split(sep).join('/'));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending].sort();
      pending = new Set();
      onChange(files, firstSeenAt);
    }, debounceMs);
  };

  const addDir = (dir: string) => {
    if (watchers.has(dir) || isExcludedDir(relative(root, dir), patterns)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        if (!name) return;
        const path = join(dir, name.toString());
        let isDir = false;
        try {
          isDir = statSync(path).isDirectory();
        } catch {
          // gone already (a temporary file, a deleted one): still an edit of that path
        }
        if (isDir) addDir(path);
        else changed(path);
      });
    } catch {
      return; // removed meanwhile
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) addDir(join(dir, e.name));
  };
  addDir(root);

  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
