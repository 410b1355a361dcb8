/** `mesh rollback <service>`: weights cleared; the stable version takes 100% of live again. */
import { planRollback } from '../alias-plan';
import type { CliContext } from '../context';
import { runAliasCommand } from './alias-command';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  return runAliasCommand(
    'rollback',
    args,
    ctx,
    ['service'],
    () => {},
    (i) => planRollback(i.service, i.functionName, i.alias),
  );
}
