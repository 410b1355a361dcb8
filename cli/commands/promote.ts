/** `mesh promote <service>`: the canary becomes the stable version with all of live's traffic. */
import { planPromote } from '../alias-plan';
import type { CliContext } from '../context';
import { runAliasCommand } from './alias-command';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  return runAliasCommand(
    'promote',
    args,
    ctx,
    ['service'],
    () => {},
    (i) => planPromote(i.service, i.functionName, i.alias, i.versions),
  );
}
