/**
 * The CLI's kinds of failure, and their exit codes. Usage errors (bad input: an unknown service, a
 * weight of 150, a policy file that fails the schema) exit 2 and write nothing; AWS errors exit 1 and
 * name the operation and AWS's message; command errors exit 1 and say what the operator must fix.
 * None of them is the runtime's MeshError (functions/mesh/errors.ts), which handlers catch.
 */
import { DEFAULT_LOCAL_PORT } from '../local/local-flags';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Bad input: the message names the value and the fix. Exit code 2; nothing has been written. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT.usage;
}

/** A call to AWS (or the local mesh endpoint) failed. Exit code 1. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  readonly exitCode = EXIT.failure;
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
    /** A cancelled transaction's reason per action, in order (DynamoDB's CancellationReasons codes). */
    readonly reasons?: readonly (string | undefined)[],
  ) {
    // Node's network errors repeat their code in the message ("connect ECONNREFUSED ...").
    super(`${operation} failed: ${code && !message.includes(code) ? `${code}: ` : ''}${message}`);
  }
}

/**
 * A command could not finish for a reason the operator must fix in the environment (no mesh found,
 * no region, an endpoint that does not answer, no trace yet). Exit code 1.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly exitCode = EXIT.failure;
}

/**
 * A policy write found its item changed since the command read it: another operator, or a deploy,
 * wrote it in between. Exit code 1. `written` lists what went in before the conflict, which only
 * a table without transactions leaves (the writes then go one by one).
 */
export class PolicyConflictError extends CommandError {
  constructor(
    readonly changed: readonly string[],
    readonly written: readonly string[] = [],
  ) {
    const wrote = written.length > 0 ? `only ${written.join(', ')} was written` : 'nothing of this change was written';
    super(
      `${changed.join(', ')} changed after this command read the table (another operator or a deploy wrote it in between); ${wrote}. Run the command again to plan against what the table holds now`,
    );
  }
}

/**
 * What to do when nothing answers at the endpoint: in an app that installed the package, the local mesh
 * is started with `mesh local`, and an endpoint elsewhere is named with --endpoint-url.
 */
export const START_LOCAL_MESH =
  "start the local mesh (`mesh local` in the CDK app's folder) or pass its address with --endpoint-url (or AWS_ENDPOINT_URL)";

/**
 * What the operator does about a failure whose AWS message does not say it: the SDK's "Could not load
 * credentials from any providers" names no provider, and the mesh command runs against AWS or a local
 * mesh alike.
 */
const FIXES: Readonly<Record<string, string>> = {
  CredentialsProviderError:
    'no AWS credentials were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or sign in as ' +
    `for the AWS CLI (aws sso login); for the local mesh, pass --endpoint-url http://127.0.0.1:${DEFAULT_LOCAL_PORT} (or set AWS_ENDPOINT_URL)`,
  // Node's socket error names the address only: a local mesh not started, or another port.
  ECONNREFUSED: `nothing answers there: ${START_LOCAL_MESH}`,
};

/** Runs one AWS operation and turns any failure into a one-line AwsCallError. */
export async function awsCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError || err instanceof CommandError || err instanceof AwsCallError) throw err;
    const e = err as {
      name?: string;
      Code?: string;
      code?: string;
      message?: string;
      errors?: Error[];
      CancellationReasons?: { Code?: string }[];
    };
    // Network failures from Node arrive as AggregateError with an empty message.
    const inner = e.errors?.[0];
    const code = e.Code ?? e.code ?? (e.name && e.name !== 'Error' ? e.name : '') ?? '';
    const message = (e.message || inner?.message || String(err)).split('\n')[0];
    const reasons = e.CancellationReasons?.map((r) => r.Code);
    const fix = Object.hasOwn(FIXES, code) ? `; ${FIXES[code]}` : '';
    throw new AwsCallError(operation, code === message ? '' : code, `${message}${fix}`, reasons);
  }
}
