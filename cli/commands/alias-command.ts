/** The shared body of `mesh shift`, `mesh promote` and `mesh rollback`. */
import { type AliasChange, type AliasState, describeSplit } from '../alias-plan';
import { getLiveAlias, listVersions, updateLiveAlias } from '../alias-store';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { refuseWhileDeploying } from '../deployment-guard';
import { COMMAND_HELP } from '../help';
import { fitHelp } from '../help-fit';
import { findService } from '../mesh-discovery';
import { commandWith, type PasteableCommand } from '../pasteable-command';
import { checkAliasCommand, readRoute } from '../route-guard';
import { wrapWords } from '../table-format';

export interface AliasCommandInput {
  readonly service: string;
  readonly functionName: string;
  readonly alias: AliasState;
  readonly versions: readonly string[];
  /** Command lines to print, with the AWS flags this command ran with. */
  readonly command: PasteableCommand;
}

/** What a command plans: the alias change, and advice when it changes nothing. */
export interface AliasPlan {
  readonly change: AliasChange;
  readonly advice?: string;
}

/** `--dry-run` plans and prints the change without writing it. */
export const ALIAS_OPTIONS = { ...AWS_OPTIONS, 'dry-run': { type: 'boolean' } } as const;

/**
 * Parses `<service> [extra positionals]`, validates them with `check` before any AWS call (bad
 * input exits 2 without touching AWS), then reads the alias, plans, checks that no route item
 * overrides the alias (route-guard.ts) and writes, unless `--dry-run`.
 */
export async function runAliasCommand(
  command: 'shift' | 'promote' | 'rollback',
  args: string[],
  ctx: CliContext,
  positionalNames: readonly string[],
  check: (positionals: string[]) => void,
  plan: (input: AliasCommandInput, positionals: string[]) => AliasPlan,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, args, ALIAS_OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP[command], ctx.columns));
    return 0;
  }
  const pos = expectPositionals(command, positionals, positionalNames);
  check(pos);
  const flags = awsFlags(values);
  const dryRun = values['dry-run'] === true;
  const { mesh, clients } = await ctx.discover(flags);
  const svc = findService(mesh, pos[0]);
  if (command !== 'rollback') await refuseWhileDeploying(flags, ctx, mesh.name, svc.service, command);
  const [alias, versions, route] = await Promise.all([
    getLiveAlias(clients, svc.functionName),
    listVersions(clients, svc.functionName),
    readRoute(clients, mesh.table, svc.service),
  ]);
  const input = { service: svc.service, functionName: svc.functionName, alias, versions, command: commandWith(flags) };
  const planned = plan(input, pos);
  const note = planned.change.changed ? checkAliasCommand(command, svc.service, route) : undefined;
  if (planned.change.changed && !dryRun)
    await updateLiveAlias(clients, svc.functionName, planned.change.after, alias.revisionId);
  report(ctx, command, planned, flags.json, dryRun);
  if (note && !flags.json) ctx.out(wrapWords(note, ctx.columns, '  '));
  return 0;
}

function report(ctx: CliContext, command: string, p: AliasPlan, json: boolean, dryRun: boolean): void {
  const c = p.change;
  if (json) {
    ctx.out(
      JSON.stringify(
        { command, ...c, ...(dryRun ? { dryRun: true } : {}), ...(p.advice ? { advice: p.advice } : {}) },
        null,
        2,
      ),
    );
    return;
  }
  const prose = (text: string) => ctx.out(wrapWords(text, ctx.columns, '  '));
  if (!c.changed) {
    prose(`${c.service}: ${c.alias} unchanged (${describeSplit(c.after)})`);
    if (p.advice) prose(p.advice);
    return;
  }
  const line = `${c.service}: ${c.alias} ${describeSplit(c.before)} -> ${describeSplit(c.after)} (${c.functionName})`;
  prose(dryRun ? `dry run: ${line}; nothing written` : line);
}

export type { AwsClients };
