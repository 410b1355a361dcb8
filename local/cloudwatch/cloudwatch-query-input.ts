/**
 * CloudWatch's query-protocol form as the input its JSON handlers take. The form holds only text, so
 * each operation's members are read by their shape in the CloudWatch API Reference: lists as
 * `Prefix.member.N` (structures' fields after it, `Dimensions.member.1.Name`), structures as
 * `Prefix.Field`, numbers and booleans as text, timestamps in ISO 8601 (the JSON protocol's epoch
 * seconds). A value that is not of its member's type is refused by its form name.
 */
import { formMembers, formValues } from '../endpoint/query-protocol';
import { cloudWatchError } from './cloudwatch-error';

type Scalar = 'string' | 'number' | 'boolean' | 'timestamp';
/** A member's shape: a scalar, a list of scalars or structures (`[shape]`), or a structure of named members. */
type Shape = Scalar | List | Structure;
type List = readonly [Scalar | Structure];
interface Structure {
  readonly [member: string]: Shape;
}

const DIMENSION: Structure = { Name: 'string', Value: 'string' };
const METRIC: Structure = { Namespace: 'string', MetricName: 'string', Dimensions: [DIMENSION] };
const METRIC_DATA_QUERY: Structure = {
  Id: 'string',
  MetricStat: { Metric: METRIC, Period: 'number', Stat: 'string', Unit: 'string' },
  Expression: 'string',
  Label: 'string',
  ReturnData: 'boolean',
  Period: 'number',
  AccountId: 'string',
};

/** The operations served in the query protocol, by the members of their requests. */
export const QUERY_INPUTS: Readonly<Record<string, Structure>> = {
  ListMetrics: {
    Namespace: 'string',
    MetricName: 'string',
    Dimensions: [DIMENSION],
    NextToken: 'string',
    RecentlyActive: 'string',
    IncludeLinkedAccounts: 'boolean',
    OwningAccount: 'string',
  },
  DescribeAlarms: {
    AlarmNames: ['string'],
    AlarmNamePrefix: 'string',
    AlarmTypes: ['string'],
    ChildrenOfAlarmName: 'string',
    ParentsOfAlarmName: 'string',
    StateValue: 'string',
    ActionPrefix: 'string',
    MaxRecords: 'number',
    NextToken: 'string',
  },
  GetMetricData: {
    MetricDataQueries: [METRIC_DATA_QUERY],
    StartTime: 'timestamp',
    EndTime: 'timestamp',
    NextToken: 'string',
    ScanBy: 'string',
    MaxDatapoints: 'number',
    LabelOptions: { Timezone: 'string' },
  },
  DescribeAlarmHistory: {
    AlarmName: 'string',
    AlarmTypes: ['string'],
    HistoryItemType: 'string',
    StartDate: 'timestamp',
    EndDate: 'timestamp',
    MaxRecords: 'number',
    NextToken: 'string',
    ScanBy: 'string',
  },
};

/** The members of `structure` the form holds under `at` (`''` for the request's own). */
export function queryInput(form: URLSearchParams, structure: Structure, at = ''): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, shape] of Object.entries(structure)) {
    const value = memberValue(form, name, shape, `${at}${name}`);
    if (value !== undefined) input[name] = value;
  }
  return input;
}

/** `where`: the member's full form name, for the refusal of a value of another type. */
function memberValue(form: URLSearchParams, name: string, shape: Shape, where: string): unknown {
  if (isList(shape)) return listValue(form, name, shape[0], where);
  if (typeof shape === 'object') {
    const fields = queryInput(subForm(form, `${name}.`), shape, `${where}.`);
    return Object.keys(fields).length > 0 ? fields : undefined;
  }
  const text = form.get(name);
  return text === null ? undefined : scalar(text, shape, where);
}

/** A list's members; `Name=` alone is the empty list, as the SDKs send one. */
function listValue(form: URLSearchParams, name: string, shape: List[0], where: string): unknown[] | undefined {
  const prefix = `${name}.member`;
  const values =
    typeof shape === 'string'
      ? formValues(form, prefix).map((text, i) => scalar(text, shape, `${where}.member.${i + 1}`))
      : formMembers(form, prefix).map((member, i) => queryInput(member, shape, `${where}.member.${i + 1}.`));
  if (values.length > 0) return values;
  return form.has(name) ? [] : undefined;
}

/** The fields of the form under `head`, as a form of their own. */
function subForm(form: URLSearchParams, head: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const [key, value] of form) if (key.startsWith(head)) fields.append(key.slice(head.length), value);
  return fields;
}

function scalar(text: string, shape: Scalar, where: string): unknown {
  if (shape === 'string') return text;
  if (shape === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw refusal(where, text, 'true or false');
  }
  const number = text.trim() === '' ? Number.NaN : Number(text);
  if (shape === 'number') {
    if (Number.isFinite(number)) return number;
    throw refusal(where, text, 'a number');
  }
  // Timestamps: ISO 8601 as the SDKs send them, or epoch seconds.
  const ms = Number.isFinite(number) ? number * 1000 : Date.parse(text);
  if (Number.isFinite(ms)) return ms / 1000;
  throw refusal(where, text, 'a timestamp in ISO 8601 (2026-01-31T12:00:00Z) or epoch seconds');
}

function refusal(where: string, text: string, needs: string): Error {
  return cloudWatchError('InvalidParameterValue', `${where} must be ${needs}, got ${JSON.stringify(text)}`);
}

function isList(shape: Shape): shape is List {
  return Array.isArray(shape);
}
