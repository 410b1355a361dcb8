/**
 * `mesh rollback <service>`: weights cleared, the stable version takes 100% of live again; with no
 * weights left after a `mesh promote`, live returns to the version the promote replaced. During a
 * gated deployment, the deployment is stopped through CodeDeploy instead, which rolls live back.
 */
import type { CliContext } from '../context';
import { planRollbackOrUndoPromote } from '../promote-record';
import { runAliasCommand } from './alias-command';
import { rollbackDeployment } from './deployment-rollback';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const stopped = await rollbackDeployment(args, ctx);
  if (stopped !== undefined) return stopped;
  return runAliasCommand(
    'rollback',
    args,
    ctx,
    ['service'],
    () => {},
    (i) => planRollbackOrUndoPromote(i.service, i.functionName, i.alias, i.versions, new Date(), i.command),
  );
}
