/** The shared body of `mesh shift`, `mesh promote` and `mesh rollback`. */
import { type AliasChange, type AliasState, describeSplit } from '../alias-plan';
import { getLiveAlias, listVersions, updateLiveAlias } from '../alias-store';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { refuseWhileDeploying } from '../deployment-guard';
import { COMMAND_HELP } from '../help';
import { findService } from '../mesh-discovery';

export interface AliasCommandInput {
  readonly service: string;
  readonly functionName: string;
  readonly alias: AliasState;
  readonly versions: readonly string[];
}

/**
 * Parses `<service> [extra positionals]`, validates them with `check` before any AWS call (bad
 * input exits 2 without touching AWS), then reads the alias, plans and writes.
 */
export async function runAliasCommand(
  command: 'shift' | 'promote' | 'rollback',
  args: string[],
  ctx: CliContext,
  positionalNames: readonly string[],
  check: (positionals: string[]) => void,
  plan: (input: AliasCommandInput, positionals: string[]) => AliasChange,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, args, AWS_OPTIONS);
  if (values.help) {
    ctx.out(COMMAND_HELP[command]);
    return 0;
  }
  const pos = expectPositionals(command, positionals, positionalNames);
  check(pos);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const svc = findService(mesh, pos[0]);
  if (command !== 'rollback') await refuseWhileDeploying(flags, ctx, mesh.name, svc.service, command);
  const [alias, versions] = await Promise.all([
    getLiveAlias(clients, svc.functionName),
    listVersions(clients, svc.functionName),
  ]);
  const change = plan({ service: svc.service, functionName: svc.functionName, alias, versions }, pos);
  if (change.changed) await updateLiveAlias(clients, svc.functionName, change.after, alias.revisionId);
  report(ctx, command, change, flags.json);
  return 0;
}

function report(ctx: CliContext, command: string, c: AliasChange, json: boolean): void {
  if (json) {
    ctx.out(JSON.stringify({ command, ...c }, null, 2));
    return;
  }
  if (!c.changed) {
    ctx.out(`${c.service}: ${c.alias} unchanged (${describeSplit(c.after)})`);
    return;
  }
  ctx.out(`${c.service}: ${c.alias} ${describeSplit(c.before)} -> ${describeSplit(c.after)} (${c.functionName})`);
}

export type { AwsClients };
