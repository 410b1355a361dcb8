/**
 * `mesh rollback <service>` while a gated deployment shifts the service's alias: StopDeployment with
 * rollback, so CodeDeploy itself moves `live` back to the version it started from (rewriting the alias
 * by hand would only be undone by CodeDeploy's next step). Waits until CodeDeploy reports the
 * deployment stopped.
 */
import { awsFlags, expectPositionals, parseCommandArgs } from '../args';
import type { CliContext } from '../context';
import { NO_CODEDEPLOY, UNREADABLE } from '../deployment-guard';
import { type ActiveDeployment, type DeploymentReader, deploymentReader } from '../deployment-store';
import { AwsCallError, CommandError, EXIT } from '../errors';
import { findService } from '../mesh-discovery';
import { wrapWords } from '../table-format';
import { ALIAS_OPTIONS } from './alias-command';

/** How long to wait for CodeDeploy to report the stop. */
const STOP_WAIT_MS = 30_000;
const ENDED = new Set(['Stopped', 'Failed', 'Succeeded']);

/**
 * Stops the service's deployment in progress; undefined when there is none (the plain rollback runs),
 * or the exit code when there was one.
 */
export async function rollbackDeployment(args: string[], ctx: CliContext): Promise<number | undefined> {
  const { values, positionals } = parseCommandArgs('rollback', args, ALIAS_OPTIONS);
  if (values.help) return undefined;
  const [name] = expectPositionals('rollback', positionals, ['service']);
  const flags = awsFlags(values);
  const { mesh } = await ctx.discover(flags);
  const svc = findService(mesh, name!);
  const reader = deploymentReader(flags, ctx);
  try {
    const d = await deploymentInProgress(reader, mesh.name, svc.service, ctx);
    if (!d) return undefined;
    if (values['dry-run'] === true) {
      ctx.out(
        wrapWords(
          `dry run: ${svc.service}: would stop CodeDeploy deployment ${d.id}, which moves live back; nothing written`,
          ctx.columns,
          '  ',
        ),
      );
      return 0;
    }
    await reader.stop(d.id);
    // On AWS the stop and its rollback take seconds to tens of seconds: said at once, the wait is no hang.
    ctx.err(
      `${svc.service}: asked CodeDeploy to stop ${d.id} (v${d.from ?? '?'} -> v${d.to ?? '?'}); waiting for it to move live back (up to ${STOP_WAIT_MS / 1000} s)`,
    );
    const status = await waitUntilEnded(reader, d.id, svc.service);
    ctx.out(
      flags.json
        ? JSON.stringify(stoppedRecord(svc.service, d, status), null, 2)
        : wrapWords(stoppedLine(svc.service, d, status), ctx.columns, '  '),
    );
    return EXIT.ok;
  } finally {
    reader.close();
  }
}

/** The deployment to stop; undefined when there is none or CodeDeploy cannot be asked (the alias is then rolled back by hand). */
async function deploymentInProgress(
  reader: DeploymentReader,
  mesh: string,
  service: string,
  ctx: CliContext,
): Promise<ActiveDeployment | undefined> {
  try {
    return await reader.active(mesh, service);
  } catch (err) {
    // No CodeDeploy here: the alias is the operator's alone.
    if (err instanceof AwsCallError && err.code === NO_CODEDEPLOY) return undefined;
    if (err instanceof AwsCallError && UNREADABLE.has(err.code)) {
      ctx.err(
        `mesh rollback: could not check ${service} for a CodeDeploy deployment (${err.message}); rolling the alias back by hand`,
      );
      return undefined;
    }
    throw err;
  }
}

/** Polls GetDeployment until CodeDeploy has finished the stop (and its rollback), at most STOP_WAIT_MS. */
async function waitUntilEnded(reader: DeploymentReader, id: string, service: string): Promise<string | undefined> {
  const until = Date.now() + STOP_WAIT_MS;
  let status = await reader.status(id);
  while (!ENDED.has(status ?? '') && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    status = await reader.status(id);
  }
  if (!ENDED.has(status ?? '')) {
    throw new CommandError(
      `${service}: asked CodeDeploy to stop ${id}, which is still ${status} after ${STOP_WAIT_MS / 1000} s; see \`mesh status\``,
    );
  }
  return status;
}

function stoppedRecord(service: string, d: ActiveDeployment, status: string | undefined) {
  return { command: 'rollback', service, deploymentId: d.id, status, from: d.from, to: d.to, rolledBack: true };
}

function stoppedLine(service: string, d: ActiveDeployment, status: string | undefined): string {
  const back = d.from ? `live back on v${d.from}` : 'live back on the version it started from';
  return `${service}: stopped CodeDeploy deployment ${d.id} (v${d.from ?? '?'} -> v${d.to ?? '?'}); ${status}, ${back}`;
}
