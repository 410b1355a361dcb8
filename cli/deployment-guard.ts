/**
 * The CLI and CodeDeploy must not fight over a `live` alias: while a gated deployment shifts it, the
 * commands that write the alias by hand (`mesh shift`, `mesh promote`, `mesh rollout`) refuse, and
 * `mesh rollback` stops the deployment through CodeDeploy instead (commands/deployment-rollback.ts).
 */
import type { AwsFlags } from './args';
import type { CliContext } from './context';
import { deploymentReader } from './deployment-store';
import { AwsCallError, CommandError } from './errors';

/** The endpoint does not speak CodeDeploy (an older local mesh, a stand-in): nothing can own the alias. */
export const NO_CODEDEPLOY = 'UnknownOperationException';
/** CodeDeploy is there but this caller may not read it: the guard warns and goes on. */
export const UNREADABLE = new Set(['AccessDeniedException', 'UnrecognizedClientException']);

/**
 * Throws (exit 1) when a CodeDeploy deployment owns `service`'s alias. An endpoint that does not speak
 * CodeDeploy goes on; a caller that may not read it gets a warning and goes on.
 */
export async function refuseWhileDeploying(
  flags: Pick<AwsFlags, 'region' | 'endpointUrl'>,
  ctx: CliContext,
  mesh: string,
  service: string,
  command: string,
): Promise<void> {
  const reader = deploymentReader(flags, ctx);
  try {
    const d = await reader.active(mesh, service);
    if (!d) return;
    const versions = d.from && d.to ? ` (v${d.from} -> v${d.to})` : '';
    throw new CommandError(
      `${service}: CodeDeploy deployment ${d.id}${versions} owns the live alias; \`mesh ${command}\` would fight it. ` +
        `Wait for it to finish (\`mesh status\`), or stop it and roll back with \`mesh rollback ${service}\``,
    );
  } catch (err) {
    if (err instanceof AwsCallError && err.code === NO_CODEDEPLOY) return;
    if (err instanceof AwsCallError && UNREADABLE.has(err.code)) {
      ctx.err(`mesh ${command}: could not check ${service} for a CodeDeploy deployment (${err.message}); going on`);
      return;
    }
    throw err;
  } finally {
    reader.close();
  }
}
