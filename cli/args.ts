/**
 * Argument parsing on node:util parseArgs, with the flags every AWS-facing command shares, and
 * errors that name the bad flag and point at the command's help.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { didYouMean } from '../shared/suggest';
import { formatDuration, parseDuration } from '../shared/telemetry/duration';
import { UsageError } from './errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command that talks to AWS accepts. */
export const AWS_OPTIONS = {
  mesh: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export interface AwsFlags {
  readonly mesh?: string;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly json: boolean;
  /** --no-color: plain text even at a terminal. */
  readonly noColor?: boolean;
}

export interface Parsed<O extends Options> {
  readonly values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };
  readonly positionals: string[];
}

/**
 * Parses `args` for `mesh <command>`; unknown flags, missing flag values and negative numbers
 * become UsageErrors that name the token and the way out.
 */
export function parseCommandArgs<O extends Options>(command: string, args: readonly string[], options: O): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: negativeValuesJoined(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const token = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      if (/^-\d/.test(token)) {
        throw new UsageError(
          `${token} is not a valid value here: negative numbers are not allowed; see \`mesh ${command} --help\``,
        );
      }
      const flags = Object.keys(options).map((name) => `--${name}`);
      throw new UsageError(
        `unknown flag ${token}${didYouMean(token, flags)} for \`mesh ${command}\`; see \`mesh ${command} --help\``,
      );
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = token.split(' ')[0] || token;
      throw new UsageError(`flag ${flag} needs a value, e.g. ${flag} <value>; see \`mesh ${command} --help\``);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`unexpected argument ${token} for \`mesh ${command}\`; see \`mesh ${command} --help\``);
    }
    throw new UsageError(`${e.message}; see \`mesh ${command} --help\``);
  }
}

/**
 * `--limit -1` as `--limit=-1`: parseArgs takes a value that starts with a dash for a flag and would
 * report the flag as missing its value, when the operator gave one the command's own check can name.
 */
function negativeValuesJoined(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** The shared AWS flags out of parsed values. */
export function awsFlags(values: Record<string, unknown>): AwsFlags {
  return {
    mesh: values.mesh as string | undefined,
    region: values.region as string | undefined,
    endpointUrl: values['endpoint-url'] as string | undefined,
    json: values.json === true,
    noColor: values['no-color'] === true,
  };
}

/** Checks the number of positionals; names what is missing or extra. */
export function expectPositionals(command: string, positionals: readonly string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) {
    const missing = names
      .slice(positionals.length)
      .map((n) => `<${n}>`)
      .join(' ');
    throw new UsageError(
      `\`mesh ${command}\` needs ${missing}: mesh ${command} ${names.map((n) => `<${n}>`).join(' ')}`,
    );
  }
  if (positionals.length > names.length) {
    const extra = positionals.slice(names.length).join(' ');
    throw new UsageError(
      `unexpected argument ${extra} for \`mesh ${command}\`; usage: mesh ${command} ${names.map((n) => `<${n}>`).join(' ')}`,
    );
  }
  return [...positionals];
}

/** A duration flag (`30s`, `5m`, `500ms`) in ms, or `fallback` when absent; anything else names the flag. */
export function durationFlag(
  command: string,
  flag: string,
  value: string | undefined,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms > max) {
    throw new UsageError(
      `--${flag} must be a duration up to ${formatDuration(max)} like 30s, 5m or 500ms, got ${JSON.stringify(value)}; see \`mesh ${command} --help\``,
    );
  }
  return ms;
}

/** A whole-number flag from 1 to `max`, or undefined when absent. */
export function countFlag(command: string, flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(
      `--${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}; see \`mesh ${command} --help\``,
    );
  }
  return n;
}
