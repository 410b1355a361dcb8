/**
 * A ListMetrics request, read and checked against the constraints of the CloudWatch API Reference
 * ("ListMetrics", "DimensionFilter"): lengths, Namespace's pattern, at most 10 dimension filters each
 * with a Name, and RecentlyActive's one valid value. A broken constraint is refused as AWS's request
 * validation refuses one (`ValidationError`, "1 validation error detected: Value 'PT1H' at
 * 'recentlyActive' failed to satisfy constraint: ..."), every broken one in one message; a member of the
 * wrong type is named with the type it needs.
 */
import { cloudWatchError } from './cloudwatch-error';

export interface DimensionFilter {
  readonly name: string;
  /** Absent: any value of the dimension matches. */
  readonly value?: string;
}

export interface ListMetricsRequest {
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions: readonly DimensionFilter[];
  /** Epoch ms: only metrics with a datapoint since then (RecentlyActive). */
  readonly activeSince?: number;
  readonly nextToken?: string;
  readonly includeLinkedAccounts: boolean;
  readonly owningAccount?: string;
}

/** RecentlyActive's values and the windows they name: "PT3H ... is the only valid value". */
const RECENTLY_ACTIVE: Readonly<Record<string, number>> = { PT3H: 3 * 3_600_000 };
const MAX_FILTERS = 10;
const NAME_MAX = 255;
const VALUE_MAX = 1024;

export function parseListMetrics(input: Record<string, unknown>, now: number): ListMetricsRequest {
  const problems: string[] = [];
  const field = (key: string, max: number) => checked(problems, stringMember(input, key), lowerFirst(key), max);
  const namespace = field('Namespace', NAME_MAX);
  if (namespace?.startsWith(':'))
    problems.push(broken(namespace, 'namespace', 'satisfy regular expression pattern: [^:].*'));
  const metricName = field('MetricName', NAME_MAX);
  const owningAccount = field('OwningAccount', NAME_MAX);
  const recentlyActive = stringMember(input, 'RecentlyActive');
  if (recentlyActive !== undefined && RECENTLY_ACTIVE[recentlyActive] === undefined) {
    problems.push(
      broken(recentlyActive, 'recentlyActive', `satisfy enum value set: [${Object.keys(RECENTLY_ACTIVE)}]`),
    );
  }
  const dimensions = dimensionFilters(input.Dimensions, problems);
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
    throw cloudWatchError('ValidationError', `${count} detected: ${problems.join('; ')}`);
  }
  const linked = input.IncludeLinkedAccounts ?? false;
  if (typeof linked !== 'boolean') throw wrongType('IncludeLinkedAccounts', linked, 'true or false');
  return {
    namespace,
    metricName,
    dimensions,
    activeSince: recentlyActive === undefined ? undefined : now - RECENTLY_ACTIVE[recentlyActive]!,
    nextToken: stringMember(input, 'NextToken'),
    includeLinkedAccounts: linked,
    owningAccount,
  };
}

/** Each filter's Name (required) and Value, at most MAX_FILTERS of them. */
function dimensionFilters(raw: unknown, problems: string[]): DimensionFilter[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw wrongType('Dimensions', raw, 'a list of {Name, Value?} filters');
  if (raw.length > MAX_FILTERS) {
    problems.push(
      `Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to ${MAX_FILTERS}`,
    );
  }
  return raw.map((f: unknown, i) => {
    const at = `dimensions.${i + 1}.member`;
    const filter = (f ?? {}) as Record<string, unknown>;
    const name = checked(problems, stringMember(filter, 'Name', `Dimensions[${i}].Name`), `${at}.name`, NAME_MAX);
    if (name === undefined)
      problems.push(`Value null at '${at}.name' failed to satisfy constraint: Member must not be null`);
    const value = checked(problems, stringMember(filter, 'Value', `Dimensions[${i}].Value`), `${at}.value`, VALUE_MAX);
    return { name: name ?? '', ...(value !== undefined ? { value } : {}) };
  });
}

/** The value, with a problem noted when its length is outside 1 to `max`. */
function checked(problems: string[], value: string | undefined, at: string, max: number): string | undefined {
  if (value === '') problems.push(broken(value, at, 'have length greater than or equal to 1'));
  if (value !== undefined && value.length > max)
    problems.push(broken(value, at, `have length less than or equal to ${max}`));
  return value;
}

function broken(value: string, at: string, constraint: string): string {
  return `Value '${value}' at '${at}' failed to satisfy constraint: Member must ${constraint}`;
}

function stringMember(input: Record<string, unknown>, key: string, named = key): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  throw wrongType(named, v, 'a string');
}

function wrongType(name: string, value: unknown, needs: string): Error {
  return cloudWatchError('InvalidParameterValue', `${name} must be ${needs}, got ${JSON.stringify(value)}`);
}

const lowerFirst = (key: string) => key[0]!.toLowerCase() + key.slice(1);
