/**
 * `mesh rollback <service>`: weights cleared; the stable version takes 100% of live again. During a
 * gated deployment, the deployment is stopped through CodeDeploy instead, which rolls live back.
 */
import { planRollback } from '../alias-plan';
import type { CliContext } from '../context';
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
    (i) => planRollback(i.service, i.functionName, i.alias),
  );
}
