/** `mesh shift <service> <weight>`: the canary's share of the live alias, 0-100 percent. */
import { planShift } from '../alias-plan';
import type { CliContext } from '../context';
import { parseWeightPercent } from '../weight';
import { runAliasCommand } from './alias-command';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  // "-5" would read as a flag; name it as the bad weight it is.
  const negative = args.find((a) => /^-\d/.test(a));
  if (negative !== undefined) parseWeightPercent(negative);
  return runAliasCommand(
    'shift',
    args,
    ctx,
    ['service', 'weight'],
    ([, weight]) => void parseWeightPercent(weight),
    (i, [, weight]) => ({
      change: planShift(i.service, i.functionName, i.alias, i.versions, parseWeightPercent(weight)),
    }),
  );
}
