/**
 * The flags every way of starting the local mesh shares (`mesh local` and `npm start`): one table for
 * node:util parseArgs and one check, so `--port 70000` or `--deployment-speed fast` get the same
 * answer from both. Each command adds its own flags around these and its own defaults.
 */
import type { ParseArgsConfig } from 'node:util';

/** The port the local mesh's endpoint binds when no --port is given (LocalStack's, so tools find it there). */
export const DEFAULT_LOCAL_PORT = 4566;

export const LOCAL_MESH_FLAGS = {
  port: { type: 'string' },
  assembly: { type: 'string', multiple: true },
  watch: { type: 'boolean' },
  'deployment-speed': { type: 'string' },
  'no-iam': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** A flag whose value cannot be used: the message names the flag, the value and what would do. */
export class LocalFlagError extends Error {
  override readonly name = 'LocalFlagError';
}

export interface LocalMeshFlags {
  readonly port?: number;
  readonly assemblies: readonly string[];
  readonly watch: boolean;
  /** Gated deployments (and their alarms) run this many times faster than CodeDeploy. */
  readonly deploymentSpeed: number;
  /** Whether each function is held to the IAM its template grants (`--no-iam` turns it off). */
  readonly enforceIam: boolean;
}

/** The shared flags' raw values, as parseArgs returns them for `LOCAL_MESH_FLAGS`. */
export interface RawLocalMeshFlags {
  readonly port?: string;
  readonly assembly?: string[];
  readonly watch?: boolean;
  readonly 'deployment-speed'?: string;
  readonly 'no-iam'?: boolean;
}

/**
 * Pure: checks the shared flags. `what` names the app `--watch` synthesizes ("the app", "the example
 * app"); `defaultSpeed` differs (`mesh local` runs at CodeDeploy's pace, the demo faster).
 */
export function checkLocalMeshFlags(raw: RawLocalMeshFlags, what: string, defaultSpeed: number): LocalMeshFlags {
  const assemblies = raw.assembly ?? [];
  if (raw.watch && assemblies.length > 0) {
    throw new LocalFlagError(`--watch synthesizes ${what} on every edit: drop --assembly, or drop --watch`);
  }
  return {
    ...(raw.port !== undefined ? { port: port(raw.port) } : {}),
    assemblies,
    watch: raw.watch === true,
    deploymentSpeed: deploymentSpeed(raw['deployment-speed'], defaultSpeed),
    enforceIam: raw['no-iam'] !== true,
  };
}

function port(raw: string): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new LocalFlagError(`--port ${JSON.stringify(raw)} is not a port number; use 0-65535, e.g. --port 4566`);
  }
  return n;
}

function deploymentSpeed(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? fallback : Number(raw);
  if (!(n > 0 && n <= 600)) {
    throw new LocalFlagError(
      `--deployment-speed ${JSON.stringify(raw)} must be a number above 0 and at most 600 (1 = CodeDeploy's own pace)`,
    );
  }
  return n;
}
