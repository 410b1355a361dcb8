/**
 * `mesh policy list|allow|deny|set|delete`: reads and edits the policy table. Every write is planned
 * and validated (shared/policy.ts parsePolicyItem, and a route's versions against the published ones)
 * before the first byte goes to DynamoDB; `--dry-run` stops after the plan.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { nestsDeeperThan } from '../../shared/json-depth';
import { breakerPartition, TABLE } from '../../shared/names';
import { didYouMean } from '../../shared/suggest';
import { listVersions } from '../alias-store';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { AwsClients } from '../aws-clients';
import type { CliContext } from '../context';
import { denyReach } from '../deny-reach';
import { UsageError } from '../errors';
import { COMMAND_HELP } from '../help';
import { fitHelp } from '../help-fit';
import { findService, requireTable } from '../mesh-discovery';
import {
  checkEdge,
  type PolicyPlan,
  planAllow,
  planDelete,
  planDeny,
  planSet,
  type RawItem,
  type WriteStamp,
} from '../policy-plan';
import { applyPlan, queryService, scanPolicy } from '../policy-store';
import { itemDetail } from '../policy-summary';
import { formatTable, wrapWords } from '../table-format';

const SUBCOMMANDS = ['list', 'allow', 'deny', 'set', 'delete'] as const;

/** Every write takes `--dry-run`: plan, validate and print, write nothing. */
const WRITE_OPTIONS = { ...AWS_OPTIONS, 'dry-run': { type: 'boolean' } } as const;

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    ctx.out(fitHelp(COMMAND_HELP.policy, ctx.columns));
    return sub === undefined ? 2 : 0;
  }
  switch (sub) {
    case 'list':
      return list(rest, ctx);
    case 'allow':
    case 'deny':
      return edge(sub, rest, ctx);
    case 'set':
      return set(rest, ctx);
    case 'delete':
      return remove(rest, ctx);
    default:
      throw new UsageError(
        `unknown policy command ${JSON.stringify(sub)}${didYouMean(sub, SUBCOMMANDS)}; use one of ${SUBCOMMANDS.join(', ')} (see \`mesh policy --help\`)`,
      );
  }
}

async function list(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('policy list', args, {
    ...AWS_OPTIONS,
    service: { type: 'string' },
  });
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP.policy, ctx.columns));
    return 0;
  }
  expectPositionals('policy list', positionals, []);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const table = requireTable(mesh);
  const items =
    values.service !== undefined
      ? await serviceAndBreakers(clients, table, findService(mesh, values.service).service)
      : await scanPolicy(clients, table);
  if (flags.json) {
    ctx.out(JSON.stringify(items, null, 2));
    return 0;
  }
  if (items.length === 0) {
    ctx.out(`no policy items${values.service ? ` for ${values.service}` : ''} in ${table}`);
    return 0;
  }
  ctx.out(
    formatTable(
      ['SERVICE', 'ITEM', 'BY', 'DETAIL'],
      items.map((i) => [
        String(i[TABLE.partitionKey]),
        String(i[TABLE.sortKey]),
        String(i.managedBy ?? '-'),
        itemDetail(i),
      ]),
      { width: ctx.columns },
    ),
  );
  return 0;
}

/** A service's policy items and its shared breaker state (partition `breaker#<service>`). */
async function serviceAndBreakers(clients: AwsClients, table: string, service: string): Promise<RawItem[]> {
  const [own, breakers] = await Promise.all([
    queryService(clients, table, service),
    queryService(clients, table, breakerPartition(service)),
  ]);
  return [...own, ...breakers];
}

async function edge(sub: 'allow' | 'deny', args: string[], ctx: CliContext): Promise<number> {
  const command = `policy ${sub}`;
  const options = sub === 'deny' ? ({ ...WRITE_OPTIONS, reason: { type: 'string' } } as const) : WRITE_OPTIONS;
  const { values, positionals } = parseCommandArgs(command, args, options);
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP.policy, ctx.columns));
    return 0;
  }
  const [from, to] = expectPositionals(command, positionals, ['from', 'to']);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const channels = mesh.services.flatMap((s) => [...(s.channels?.out ?? []), ...(s.channels?.in ?? [])]);
  checkEdge(
    from,
    to,
    mesh.services.map((s) => s.service),
    [...new Set(channels)],
  );
  const table = requireTable(mesh);
  const existing = await queryService(clients, table, to);
  const reason = (values as { reason?: string }).reason;
  const planned =
    sub === 'allow' ? planAllow(existing, from, to, stamp(ctx)) : planDeny(existing, from, to, stamp(ctx), reason);
  // What the deny does not reach (another region's copy, a fallback service) is said beside it.
  const reach = sub === 'deny' ? denyReach(existing, { from, to }, await clients.region(), flags) : [];
  const plan = reach.length ? { ...planned, warnings: [...(planned.warnings ?? []), ...reach] } : planned;
  return write(ctx, clients, table, command, { plan, basis: existing }, flags.json, values['dry-run'] === true);
}

async function set(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('policy set', args, {
    ...WRITE_OPTIONS,
    file: { type: 'string', short: 'f' },
  });
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP.policy, ctx.columns));
    return 0;
  }
  const [service] = expectPositionals('policy set', positionals, ['service']);
  if (values.file === undefined) throw new UsageError(`\`mesh policy set ${service}\` needs --file <policy.json>`);
  // Read and parse the file before any AWS call: a bad file never reaches the table.
  const fileItems = readPolicyFile(resolve(ctx.cwd, values.file), values.file);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const svc = findService(mesh, service);
  const table = requireTable(mesh);
  const [existing, versions] = await Promise.all([
    queryService(clients, table, service),
    listVersions(clients, svc.functionName),
  ]);
  const plan = planSet(service, fileItems, existing, stamp(ctx), values.file, {
    functionName: svc.functionName,
    versions,
  });
  return write(ctx, clients, table, 'policy set', { plan, basis: existing }, flags.json, values['dry-run'] === true);
}

/** `mesh policy delete <service> <sk> [--force]`: every item the CLI can write, it can remove. */
async function remove(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('policy delete', args, {
    ...WRITE_OPTIONS,
    force: { type: 'boolean' },
  });
  if (values.help) {
    ctx.out(fitHelp(COMMAND_HELP.policy, ctx.columns));
    return 0;
  }
  const [service, sk] = expectPositionals('policy delete', positionals, ['service', 'item']);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  findService(mesh, service);
  const table = requireTable(mesh);
  const existing = await serviceAndBreakers(clients, table, service);
  const plan = planDelete(existing, service, sk, values.force === true);
  return write(ctx, clients, table, 'policy delete', { plan, basis: existing }, flags.json, values['dry-run'] === true);
}

/** Applies a validated plan, made from the items read (`basis`), unless a dry run, and reports it. */
async function write(
  ctx: CliContext,
  clients: AwsClients,
  table: string,
  command: string,
  { plan, basis }: { plan: PolicyPlan; basis: readonly RawItem[] },
  json: boolean,
  dryRun: boolean,
): Promise<number> {
  if (!dryRun) await applyPlan(clients, table, plan, basis);
  report(ctx, command, table, plan, json, dryRun);
  return 0;
}

export function readPolicyFile(path: string, shown: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read policy file ${shown}: ${(err as Error).message.split('\n')[0]}; check the path`);
  }
  if (nestsDeeperThan(Buffer.from(text), MAX_FILE_NESTING)) {
    throw new UsageError(
      `policy file ${shown} nests deeper than ${MAX_FILE_NESTING} levels, deeper than a policy item can be ` +
        '(DynamoDB keeps an item 32 levels deep at most); fix the file and run again',
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `policy file ${shown} is not valid JSON (${(err as Error).message}); fix the syntax and run again`,
    );
  }
}

/**
 * The deepest policy file read: `{"items": [...]}` around items DynamoDB nests 32 levels deep at most
 * (Amazon DynamoDB Developer Guide, "Service, account, and table quotas", nested attribute depth). Checked on the text, before parsing: the checks
 * that follow walk the items by recursion, and a file nested a hundred thousand deep overflowed them.
 */
const MAX_FILE_NESTING = 2 + 32;

function stamp(ctx: CliContext): WriteStamp {
  let user = ctx.env.USER ?? ctx.env.USERNAME;
  try {
    user ??= userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return { updatedAt: new Date().toISOString(), updatedBy: `mesh-cli${user ? `:${user}` : ''}` };
}

function report(
  ctx: CliContext,
  command: string,
  table: string,
  plan: PolicyPlan,
  json: boolean,
  dryRun: boolean,
): void {
  const warnings = plan.warnings ?? [];
  if (json) {
    ctx.out(
      JSON.stringify(
        {
          command,
          table,
          changes: plan.changes,
          ...(dryRun ? { dryRun: true } : {}),
          ...(warnings.length ? { warnings } : {}),
        },
        null,
        2,
      ),
    );
    return;
  }
  const written = plan.changes.filter((c) => c.action !== 'unchanged').length;
  const prose = (text: string) => ctx.out(wrapWords(text, ctx.columns, '  '));
  prose(plan.changes.map((c) => `${c.action.padEnd(9)} ${c.pk}/${c.sk}`).join('\n'));
  const items = `${written} item${written > 1 ? 's' : ''}`;
  if (dryRun)
    prose(
      written
        ? `dry run: ${items} would be written to ${table}; nothing written`
        : `dry run: nothing to change in ${table}`,
    );
  else prose(written ? `${items} written to ${table}` : `nothing to change in ${table}`);
  for (const w of warnings) prose(`note: ${w}`);
}
