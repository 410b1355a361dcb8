/**
 * `mesh promote <service>`: the canary becomes the stable version with all of live's traffic; the
 * version it replaces is recorded on the alias (promote-record.ts) so `mesh rollback` can return to it.
 */
import { planPromote } from '../alias-plan';
import type { CliContext } from '../context';
import { withPromoteRecord } from '../promote-record';
import { runAliasCommand } from './alias-command';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  return runAliasCommand(
    'promote',
    args,
    ctx,
    ['service'],
    () => {},
    // The version it replaces is recorded on the alias, for `mesh rollback`.
    (i) => ({ change: withPromoteRecord(planPromote(i.service, i.functionName, i.alias, i.versions), new Date()) }),
  );
}
