/**
 * A function's logging configuration as Lambda applies it ("Configuring advanced logging controls for
 * Lambda functions" and "Log-level filtering", AWS Lambda Developer Guide): the variables that tell the
 * runtime the format and level, and which log events reach the log. Pure.
 */
import type { FunctionSpec } from '../registry/function-registry';

/** Lambda's application log levels, least severe first. */
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** What the level of an event without a valid one is taken to be. */
const DEFAULT_LEVEL = 2; // INFO

type Logging = Pick<FunctionSpec, 'logFormat' | 'applicationLogLevel'>;

/**
 * Where an environment's log goes ("Configuring CloudWatch log groups", AWS Lambda Developer Guide):
 * the function's LoggingConfig.LogGroup, else `/aws/lambda/<name>`; in a group of the function's
 * choosing the stream names the function too (`YYYY/MM/DD/<name>[<version>]<id>`), as several
 * functions may share it. `day` is `YYYY/MM/DD`, `id` the environment's.
 */
export function logDestination(
  spec: Pick<FunctionSpec, 'name' | 'logGroup'>,
  version: string,
  day: string,
  id: string,
): { AWS_LAMBDA_LOG_GROUP_NAME: string; AWS_LAMBDA_LOG_STREAM_NAME: string } {
  return {
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup ?? `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/${spec.logGroup ? spec.name : ''}[${version}]${id}`,
  };
}

/** Whether the function logs in the JSON format (LoggingConfig.LogFormat; Text when unset). */
export function logsJson(spec: Logging): boolean {
  return spec.logFormat?.toUpperCase() === 'JSON';
}

/**
 * The application log level in force: only with the JSON format (log-level filtering needs it), INFO
 * when the function names none, as Lambda's default for a JSON-format function.
 */
function applicationLevel(spec: Logging): string | undefined {
  if (!logsJson(spec)) return undefined;
  const level = spec.applicationLogLevel?.toUpperCase();
  return level && (LEVELS as readonly string[]).includes(level) ? level : 'INFO';
}

/**
 * AWS_LAMBDA_LOG_FORMAT and, with the JSON format, AWS_LAMBDA_LOG_LEVEL: what Lambda sets for the
 * runtime and for logging libraries that follow it (the Node.js runtime reads both).
 */
export function logEnvironment(spec: Logging): Record<string, string> {
  const level = applicationLevel(spec);
  return {
    AWS_LAMBDA_LOG_FORMAT: logsJson(spec) ? 'JSON' : 'Text',
    ...(level ? { AWS_LAMBDA_LOG_LEVEL: level } : {}),
  };
}

/**
 * The level of one log event: the `level` of an event that is a JSON object (a console call in the
 * JSON format, or a JSON line the function wrote itself), else INFO, as Lambda takes an event whose
 * level is missing or invalid.
 */
function eventLevel(event: string): number {
  if (!event.startsWith('{')) return DEFAULT_LEVEL;
  try {
    const level: unknown = (JSON.parse(event) as { level?: unknown }).level;
    const at = typeof level === 'string' ? (LEVELS as readonly string[]).indexOf(level.toUpperCase()) : -1;
    return at < 0 ? DEFAULT_LEVEL : at;
  } catch {
    return DEFAULT_LEVEL;
  }
}

/**
 * Which log events reach the function's log: all of them in the text format; in the JSON format those
 * at the application log level or above (an event without a level counts as INFO, so a plain line or
 * an EMF object the function writes is dropped below a WARN level too). Undefined: keep every event.
 */
export function logLevelFilter(spec: Logging): ((event: string) => boolean) | undefined {
  const level = applicationLevel(spec);
  if (level === undefined) return undefined;
  const threshold = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  return (event) => eventLevel(event) >= threshold;
}
