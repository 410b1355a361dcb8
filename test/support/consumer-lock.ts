/**
 * A lock file for an app that installs this package, made from this repository's lock file, so
 * `npm ci --offline` installs it from the npm cache `npm ci` filled for this repository: no registry
 * (the cache holds the tarballs this repository's lock names, not the registry's package lists).
 *
 * Each dependency is placed where Node would find it, walking the repository's lock from the app's
 * own dependencies (and the package's, through its entry), so the app gets the packages this
 * repository tested with and nothing it does not need.
 */

export interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly optional?: boolean;
  readonly dev?: boolean;
  readonly peer?: boolean;
  readonly devOptional?: boolean;
  readonly [key: string]: unknown;
}

export interface Lock {
  readonly packages: Record<string, LockEntry>;
}

export interface AppManifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

/**
 * The app's lock: `manifest` at the root, `extra` entries (e.g. `node_modules/lambda-mesh` from a
 * tarball) as given, everything else copied from `repoLock`. Throws naming a dependency the
 * repository's lock cannot supply.
 */
export function consumerLock(repoLock: Lock, manifest: AppManifest, extra: Record<string, LockEntry>): object {
  const packages: Record<string, LockEntry> = { '': { ...manifest }, ...extra };
  const known = (path: string) => path in packages || path in repoLock.packages;

  /** Where Node finds `name` from the package at `from`: its own node_modules, then each parent's. */
  const locate = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (known(candidate)) return candidate;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };

  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const entry = packages[path];
    const required = { ...entry.dependencies, ...(path === '' ? manifest.devDependencies : {}) };
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    const optional = Object.keys(entry.optionalDependencies ?? {});
    for (const [name, isOptional] of [
      ...Object.keys(required).map((n) => [n, false] as const),
      ...peers.map((n) => [n, false] as const),
      ...optional.map((n) => [n, true] as const),
    ]) {
      const at = locate(path, name);
      if (!at) {
        if (isOptional) continue;
        throw new Error(
          `consumer lock: ${name} (needed by ${path || manifest.name}) is not in this repository's package-lock.json; add it as a devDependency so npm ci caches it`,
        );
      }
      if (!(at in packages)) packages[at] = appEntry(repoLock.packages[at]);
      visit(at);
    }
  };
  visit('');
  return { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };
}

/** A repository lock entry as the app's: the repository's dev/peer flags say nothing about the app. */
function appEntry(entry: LockEntry): LockEntry {
  const { dev: _dev, peer: _peer, devOptional, ...rest } = entry;
  return devOptional ? { ...rest, optional: true } : rest;
}
