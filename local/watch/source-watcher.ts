/**
 * Watches an app's sources for edits, as `cdk watch` does: cdk.json's `watch.include` / `watch.exclude`
 * globs (relative to the app's folder), the output directories, node_modules and .git always left out;
 * and the files outside that folder the last synthesis found the functions' bundles and the app reading
 * (`follow`): in a monorepo the handlers live in other packages, whose edits `cdk watch` would miss too.
 * Changes are batched: the callback gets every file that changed in one quiet `debounceMs`.
 * Each directory is watched on its own (new ones as they appear): Node 20's recursive watch on Linux
 * watches files, and loses a file an editor saves by renaming a temporary file over it.
 */
import { existsSync, type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

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
  /**
   * Also watch these files (absolute), those outside the app's folder and any node_modules: what the
   * functions' bundles and the app read from elsewhere, as a handler in another package of a monorepo.
   * They are watched whatever the globs say (a bundle reads them), and replace the files followed before.
   */
  follow(files: readonly string[]): void;
  close(): void;
}

/** Pure: the files of `files` (absolute) outside `root` and outside every node_modules folder. */
export function outsideFiles(root: string, files: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const rel = relative(root, f);
    const outside = rel.startsWith(`..${sep}`) || isAbsolute(rel);
    if (outside && !f.split(sep).includes('node_modules')) out.add(f);
  }
  return [...out].sort();
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
  const batch = batcher(onChange, debounceMs);
  const watchers = new Map<string, FSWatcher>();
  const changed = (path: string, followed = false) => {
    const rel = relative(root, path);
    if (followed || isWatched(rel, patterns)) batch.add(rel.split(sep).join('/'));
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
  const outside = followFiles(root, (path) => changed(path, true));

  return {
    follow: outside.follow,
    close() {
      batch.cancel();
      for (const w of watchers.values()) w.close();
      watchers.clear();
      outside.close();
    },
  };
}

/** Collects the paths changed in one quiet `debounceMs`, then hands them over sorted, with the first one's time. */
function batcher(onChange: (files: string[], firstSeenAt: number) => void, debounceMs: number) {
  let pending = new Set<string>();
  let firstSeenAt = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    add(path: string) {
      if (pending.size === 0) firstSeenAt = Date.now();
      pending.add(path);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...pending].sort();
        pending = new Set();
        onChange(files, firstSeenAt);
      }, debounceMs);
    },
    cancel: () => clearTimeout(timer),
  };
}

/** The directories of the followed files outside `root`, each watched on its own, for those files alone. */
function followFiles(root: string, changed: (path: string) => void): SourceWatcher {
  let files = new Set<string>();
  const watchers = new Map<string, FSWatcher>();
  const close = () => {
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };
  const follow = (all: readonly string[]) => {
    files = new Set(outsideFiles(root, all));
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const [dir, w] of watchers) {
      if (dirs.has(dir)) continue;
      w.close();
      watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (watchers.has(dir) || !existsSync(dir)) continue;
      const w = watch(dir, (_event, name) => {
        const path = name ? join(dir, name.toString()) : '';
        if (files.has(path)) changed(path);
      });
      w.on('error', () => {
        w.close();
        watchers.delete(dir);
      });
      watchers.set(dir, w);
    }
  };
  return { follow, close };
}
