/**
 * `mesh check`: validates a deployed mesh (or the local mesh) the way `linkerd check` does. For every
 * mesh function it gathers the facts (check-facts.ts), runs the table of checks over them
 * (check-table.ts) and renders √ / × per check with a fix for each failure; exits 1 when any fails.
 */
import { ENV, LIVE_ALIAS } from '../../shared/names';
import { printable } from '../../shared/terminal-text';
import { AWS_OPTIONS, awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { EXIT } from '../errors';
import { fitHelp } from '../help-fit';
import { type DiscoveredMesh, findService, type MeshService } from '../mesh-discovery';
import { commandWith } from '../pasteable-command';
import { wrapWords } from '../table-format';
import { type FunctionFacts, gatherFacts } from './check-facts';
import { type InvokeGrants, readInvokeGrants } from './check-iam';
import { gatherMeshFacts } from './check-policy';
import { type CheckResult, type CheckStatus, evaluateFunction } from './check-table';

export const CHECK_HELP = `mesh check [--service <name>] [--json] [AWS flags]

Checks every mesh function, like \`linkerd check\`:
  mesh layer        the function has the mesh layer
  handler           the handler is the mesh wrapper and ${ENV.handler} names the app's handler
  tracing           X-Ray tracing is Active (TracingConfig)
  live alias        alias "${LIVE_ALIAS}" exists and routes only to published versions
  identity          ${ENV.identitySecret} resolves and can be read (DescribeSecret, GetSecretValue)
  policy table      ${ENV.policyTable} is ACTIVE and the service's items can be read (DescribeTable, Query)
  policy items      every stored item passes the schema and names only published versions (Scan,
                    ListVersionsByFunction)
  edges             each edge's two walls agree: an edge IAM grants the role (ListRolePolicies,
                    GetRolePolicy) is allowed by the table, and an edge the table allows is granted
  split             a route item with weights and a canary weight on ${LIVE_ALIAS} do not both claim the split
Prints √ or × for each, with a fix for each failure, and under "run:" the commands that fix it
(with the flags this check ran with: paste them as they are). Exit code 1 when any check fails: a
check fails whenever traffic would fail (a denied edge, an item naming a version that does not
exist, an alias on $LATEST).

Works against AWS, LocalStack and the local mesh (--endpoint-url / AWS_ENDPOINT_URL).

Flags:
  --service <name>   check only this service
  --json             print the results as JSON
  --mesh, --region, --endpoint-url   as for every mesh command`;

const OPTIONS = { ...AWS_OPTIONS, service: { type: 'string' } } as const;

export interface CheckReport {
  readonly mesh: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly services: { readonly service: string; readonly functionName: string; readonly checks: CheckResult[] }[];
  readonly passed: number;
  readonly failed: number;
  readonly warnings: number;
}

const MARK: Record<CheckStatus, string> = { pass: '√', fail: '×', warn: '‼', skip: '-' };

/**
 * The one observer of the checks' results: a block per function, a line per check, a fix under each
 * failure. Pure. With `width` (a terminal's, or COLUMNS), a check and its detail and fix
 * break between words under their text; a `run:` line stays whole, to be pasted as it is.
 */
export function renderReport(r: CheckReport, width?: number): string {
  const prose = (line: string) => wrapWords(printable(line), width, '  ');
  const lines = [prose(`mesh ${r.mesh} in ${r.region}${r.endpoint ? ` at ${r.endpoint}` : ''}`), ''];
  for (const s of r.services) {
    lines.push(printable(`${s.service} (${s.functionName})`), '-'.repeat(s.service.length + s.functionName.length + 3));
    for (const c of s.checks) {
      lines.push(prose(`${MARK[c.status]} ${c.check}${c.detail && c.status === 'pass' ? ` (${c.detail})` : ''}`));
      if (c.status !== 'pass') {
        if (c.detail) lines.push(prose(`    ${c.detail}`));
        if (c.fix) lines.push(prose(`    fix: ${c.fix}`));
        for (const cmd of c.commands ?? []) lines.push(printable(`    run: ${cmd}`));
      }
    }
    lines.push('');
  }
  lines.push(
    prose(
      `Status check results are ${r.failed ? '×' : '√'}: ${r.passed} passed, ${r.failed} failed${r.warnings ? `, ${r.warnings} warning${r.warnings > 1 ? 's' : ''}` : ''}`,
    ),
  );
  // Service names and details come from the functions' own configuration: each entry is shown as
  // printable text before it is broken into lines.
  return lines.join('\n');
}

export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', args, OPTIONS);
  if (values.help) {
    ctx.out(fitHelp(CHECK_HELP, ctx.columns));
    return EXIT.ok;
  }
  expectPositionals('check', positionals, []);
  const flags = awsFlags(values);
  const { mesh, clients } = await ctx.discover(flags);
  const services = pickServices(mesh, values.service);
  const facts = await Promise.all(services.map((s) => gatherFacts(clients, s)));
  const grants = new Map(await Promise.all(facts.map(async (f) => [f.service, await grantsOf(clients, f)] as const)));
  const meshFacts = await gatherMeshFacts(clients, mesh, grants, commandWith(flags));
  const results = services.map((s) => {
    const f = facts.find((x) => x.service === s.service)!;
    return { service: s.service, functionName: s.functionName, checks: evaluateFunction({ ...f, mesh: meshFacts }) };
  });
  const all = results.flatMap((r) => r.checks);
  const report: CheckReport = {
    mesh: mesh.name,
    region: await clients.region(),
    endpoint: clients.settings.endpoints.LAMBDA,
    services: results,
    passed: all.filter((c) => c.status === 'pass').length,
    failed: all.filter((c) => c.status === 'fail').length,
    warnings: all.filter((c) => c.status === 'warn').length,
  };
  ctx.out(flags.json ? JSON.stringify(report, null, 2) : renderReport(report, ctx.columns));
  return report.failed > 0 ? EXIT.failure : EXIT.ok;
}

/** What the function's role may invoke; the error when IAM could not be read (judged by the rows). */
async function grantsOf(clients: Parameters<typeof gatherFacts>[0], f: FunctionFacts): Promise<InvokeGrants | Error> {
  if (!f.config?.role) return new Error(`no execution role known for ${f.functionName}`);
  try {
    return await readInvokeGrants(clients, f.config.role);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function pickServices(mesh: DiscoveredMesh, service: string | undefined): readonly MeshService[] {
  if (service === undefined) return mesh.services;
  return [findService(mesh, service)];
}
