/**
 * `mesh rollback <service>`: weights cleared, the stable version takes 100% of live again; with no
 * weights left after a `mesh promote`, live returns to the version the promote replaced.
 */
import type { CliContext } from '../context';
import { planRollbackOrUndoPromote } from '../promote-record';
import { runAliasCommand } from './alias-command';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  return runAliasCommand(
    'rollback',
    args,
    ctx,
    ['service'],
    () => {},
    (i) => planRollbackOrUndoPromote(i.service, i.functionName, i.alias, i.versions, new Date()),
  );
}
