/**
 * Lambda's FunctionName forms (AWS Lambda API Reference, "Invoke"): `my-fn`, `my-fn:<q>`,
 * `arn:aws:lambda:<region>:<acct>:function:my-fn[:<q>]`, partial `<acct>:function:my-fn[:<q>]`.
 * Pure parsing; which function it names is the registry's business.
 */
import { AwsError } from './errors';

export interface FunctionRef {
  /** The bare function name. */
  readonly name: string;
  /** Version or alias, from the name or the Qualifier parameter. */
  readonly qualifier?: string;
}

const NAME = /^[a-zA-Z0-9-_]{1,64}$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9-_]{1,128})$/;
// Lambda's own pattern for FunctionName on Invoke (from the API reference).
const AWS_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

/** Parses a FunctionName and an optional Qualifier; throws AWS's errors for bad values. */
export function parseFunctionName(functionName: string, qualifier?: string): FunctionRef {
  const ref = split(functionName);
  const max = functionName.startsWith('arn:') ? 140 : functionName.includes(':function:') ? 140 : 64 + 1 + 128;
  if (
    !ref ||
    !NAME.test(ref.name) ||
    functionName.length > max ||
    (ref.qualifier !== undefined && !QUALIFIER.test(ref.qualifier))
  ) {
    throw new AwsError(
      'ValidationException',
      400,
      `1 validation error detected: Value '${functionName}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${AWS_PATTERN}`,
    );
  }
  if (qualifier !== undefined && qualifier !== '') {
    if (!QUALIFIER.test(qualifier)) {
      throw new AwsError(
        'ValidationException',
        400,
        `1 validation error detected: Value '${qualifier}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`,
      );
    }
    if (ref.qualifier !== undefined && ref.qualifier !== qualifier) {
      throw new AwsError(
        'InvalidParameterValueException',
        400,
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    }
    return { name: ref.name, qualifier };
  }
  return ref;
}

function split(s: string): FunctionRef | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  const parts = s.split(':');
  if (s.startsWith('arn:')) {
    // arn:aws:lambda:<region>:<acct>:function:<name>[:<q>]
    if (parts.length < 7 || parts.length > 8 || parts[2] !== 'lambda' || parts[5] !== 'function') return undefined;
    return withQualifier(parts[6], parts[7]);
  }
  if (parts.length >= 3 && parts[1] === 'function') {
    // <acct>:function:<name>[:<q>]
    if (parts.length > 4 || !/^\d{12}$/.test(parts[0])) return undefined;
    return withQualifier(parts[2], parts[3]);
  }
  if (parts.length > 2) return undefined;
  return withQualifier(parts[0], parts[1]);
}

function withQualifier(name: string, qualifier: string | undefined): FunctionRef {
  return qualifier === undefined ? { name } : { name, qualifier };
}

/** `arn:aws:lambda:<region>:<acct>:function:<name>[:<q>]`, as AWS prints it in messages. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}
