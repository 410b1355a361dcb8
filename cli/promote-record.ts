/**
 * `mesh promote` leaves a record on the `live` alias's Description (`mesh: promoted v2 over v1 at
 * <time>`), so `mesh rollback` can return to the version that was stable before: after a promote the
 * alias has no weights left to clear. Pure: formats and reads the record, plans the rollback.
 */
import { isPublishedVersion, LIVE_ALIAS } from '../shared/names';
import { type AliasChange, type AliasState, planRollback } from './alias-plan';
import { commandWith, type PasteableCommand } from './pasteable-command';

const PROMOTED = /^mesh: promoted v(\d+) over v(\d+)\b/;

/** The Description `mesh promote` writes. Lambda keeps at most 256 characters; this stays far below. */
export function promoteRecord(promoted: string, previous: string, at: Date): string {
  return `mesh: promoted v${promoted} over v${previous} at ${at.toISOString()}`;
}

/** The Description `mesh rollback` writes after undoing a promote (so a second rollback does not flip back). */
export function rollbackRecord(from: string, to: string, at: Date): string {
  return `mesh: rolled back from v${from} to v${to} at ${at.toISOString()}`;
}

/** The promote recorded on the alias, when its version is still the promoted one. */
export function recordedPromote(alias: AliasState): { promoted: string; previous: string } | undefined {
  const m = PROMOTED.exec(alias.description ?? '');
  if (!m || m[1] !== alias.functionVersion) return undefined;
  return { promoted: m[1]!, previous: m[2]! };
}

/** `mesh promote`'s change, with the record of the version it replaces. */
export function withPromoteRecord(change: AliasChange, at: Date): AliasChange {
  if (!change.changed || change.after.functionVersion === change.before.functionVersion) return change;
  return {
    ...change,
    after: {
      ...change.after,
      description: promoteRecord(change.after.functionVersion, change.before.functionVersion, at),
    },
  };
}

export interface RollbackPlan {
  readonly change: AliasChange;
  /** Said when nothing is written: what the operator can do instead. */
  readonly advice?: string;
}

/**
 * `mesh rollback`: a canary weight is cleared (the stable version keeps 100%); with no weight, a
 * recorded promote is undone (live back to the version that was stable before it); with neither,
 * nothing changes and the advice says exactly how to point `live` at another version, with `command`
 * adding the AWS flags the command ran with (so it reaches the same endpoint and region when pasted).
 */
export function planRollbackOrUndoPromote(
  service: string,
  functionName: string,
  alias: AliasState,
  versions: readonly string[],
  at: Date,
  command: PasteableCommand = commandWith({}),
): RollbackPlan {
  const clear = planRollback(service, functionName, alias);
  if (clear.changed) return { change: clear };
  const promote = recordedPromote(alias);
  if (promote && versions.includes(promote.previous)) {
    return {
      change: {
        ...clear,
        after: {
          functionVersion: promote.previous,
          weights: {},
          description: rollbackRecord(promote.promoted, promote.previous, at),
        },
        changed: true,
      },
    };
  }
  const earlier = versions.filter((v) => isPublishedVersion(v) && v !== alias.functionVersion);
  const why = promote
    ? `the promote recorded on ${LIVE_ALIAS} replaced v${promote.previous}, which is no longer published`
    : `${LIVE_ALIAS} has no canary weight and no promote recorded on it`;
  return {
    change: clear,
    advice:
      `nothing to roll back: ${why}. To point ${LIVE_ALIAS} at an earlier version, run: ` +
      `\`${command('aws', `lambda update-alias --function-name ${functionName} --name ${LIVE_ALIAS} --function-version <n>`)}\` ` +
      `(other published versions: ${earlier.join(', ') || 'none'})`,
  };
}
