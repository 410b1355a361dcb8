/**
 * CloudWatch on the local endpoint in its query protocol, which CloudWatch still serves and older
 * clients send (aws CLI v2 before its switch to JSON, such as Debian bookworm's 2.9; older SDKs): a
 * form-encoded POST, `Action=<Operation>&Version=2010-08-01`, answered in the XML of the 2010-08-01
 * API, lists as `member` elements and timestamps in ISO 8601 ("Query requests", Amazon CloudWatch API
 * Reference). The form becomes the input the JSON protocol's handlers take and their output becomes
 * XML, so both protocols share every check, every metric and every alarm.
 */
import { AwsError, asQueryError } from '../endpoint/errors';
import { queryResponse, xmlElement, xmlText } from '../endpoint/query-protocol';
import type { QueryService } from '../endpoint/server';
import { type CloudWatchState, handleCloudWatch } from './cloudwatch-api';
import { QUERY_INPUTS, queryInput } from './cloudwatch-query-input';

const XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

/** The output members holding timestamps (epoch seconds in JSON, ISO 8601 in XML). */
const TIMESTAMP = /Timestamps?$/;

/** The endpoint's CloudWatch in the query protocol, over the state the JSON protocol serves. */
export function cloudWatchQueryService(state: CloudWatchState): QueryService {
  return {
    handle(form, requestId) {
      const action = form.get('Action') ?? '';
      const members = Object.hasOwn(QUERY_INPUTS, action) ? QUERY_INPUTS[action] : undefined;
      if (!members) {
        throw new AwsError('InvalidAction', 400, `The action ${action} is not valid for this endpoint.`);
      }
      try {
        const output = handleCloudWatch(state, action, queryInput(form, members)) as Record<string, unknown>;
        return queryResponse(action, XMLNS, fieldsXml(output), requestId);
      } catch (err) {
        throw queryError(err);
      }
    },
  };
}

/** A CloudWatch error under its query code (`x-amzn-query-error` on the JSON side), its message kept. */
function queryError(err: unknown): unknown {
  return err instanceof AwsError ? asQueryError(err, err.message, {}) : err;
}

function fieldsXml(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([name, value]) => valueXml(name, value, TIMESTAMP.test(name)))
    .join('');
}

/** `value` as the element `name`: lists of `member`s, structures of their fields, scalars as text. */
function valueXml(name: string, value: unknown, timestamp: boolean): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return xmlElement(name, value.map((v) => valueXml('member', v, timestamp)).join(''));
  if (typeof value === 'object') return xmlElement(name, fieldsXml(value as Record<string, unknown>));
  if (timestamp && typeof value === 'number') return xmlText(name, new Date(value * 1000).toISOString());
  return xmlText(name, String(value));
}
