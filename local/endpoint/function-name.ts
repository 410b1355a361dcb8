/**
 * Lambda's FunctionName forms (AWS Lambda API Reference, "Invoke"): `my-fn`, `my-fn:<q>`,
 * `arn:aws:lambda:<region>:<acct>:function:my-fn[:<q>]`, partial `<acct>:function:my-fn[:<q>]`.
 * Checked as Lambda checks them (the API reference's length and pattern per operation, AWS's own
 * wording), then against the region and account the request is served in:
 * - a value that breaks the length or the pattern is 400 ValidationException, all findings in one message
 *   (a namespaced name off its pattern: the pattern alone, as Lambda reports it);
 * - a value that fits the pattern names a function, which may simply not exist (404 later): a 65-character
 *   name, a `$latest` qualifier or `arn:...:function` (a function called "function") are not malformed;
 * - an ARN of another region is 404 "Functions from '<r>' are not reachable in this region ('<here>')",
 *   one of another account 403 AccessDeniedException: nothing here grants cross-account access.
 * Pure parsing; which function it names is the registry's business.
 */
import { AwsError } from './errors';

export interface FunctionRef {
  /** The bare function name. */
  readonly name: string;
  /** Version or alias, from the name or the Qualifier parameter. */
  readonly qualifier?: string;
}

/** Where the request is served: the ARNs it may name. */
export interface ServedScope {
  readonly region: string;
  readonly accountId: string;
}

// The patterns Lambda prints in its ValidationException messages (API reference, FunctionName).
const NAMESPACED_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?';
const PLAIN_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const QUALIFIER_PATTERN = '\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+';

const REGION = '(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-[a-z]+-\\d{1}';
const NAMESPACED = new RegExp(
  `^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?<region>${REGION}):)?(?:(?<account>\\d{12}):)?(?:function:)?(?<name>[a-zA-Z0-9-_.]+)(?::(?<qualifier>\\$LATEST(?:\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`,
);
const PLAIN = new RegExp(
  `^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?<region>${REGION}):)?(?:(?<account>\\d{12}):)?(?:function:)?(?<name>[a-zA-Z0-9-_]+)(?::(?<qualifier>\\$LATEST|[a-zA-Z0-9-_]+))?$`,
);
const QUALIFIER = /^(?:\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$/;

/** Operations whose FunctionName is a NamespacedFunctionName: up to 170 characters, dots allowed. */
const NAMESPACED_OPERATIONS = new Set([
  'Invoke',
  'GetFunction',
  'GetFunctionConfiguration',
  'ListVersionsByFunction',
  'GetPolicy',
]);

/** Lambda's "N validation error(s) detected: ..." for a list of findings. */
export function validationError(findings: readonly string[]): AwsError {
  const n = findings.length;
  return new AwsError(
    'ValidationException',
    400,
    `${n} validation error${n > 1 ? 's' : ''} detected: ${findings.join('; ')}`,
  );
}

/**
 * Parses a FunctionName and an optional Qualifier for `operation`, served in `scope`; throws AWS's
 * errors for bad values and for ARNs outside the scope.
 */
export function parseFunctionName(
  functionName: string,
  qualifier: string | undefined,
  operation: string,
  scope: ServedScope,
): FunctionRef {
  const namespaced = NAMESPACED_OPERATIONS.has(operation);
  const value = typeof functionName === 'string' ? functionName : '';
  const match = (namespaced ? NAMESPACED : PLAIN).exec(value);
  const findings = nameFindings(value, namespaced, match !== null);
  const q = qualifier === '' ? undefined : qualifier;
  if (q !== undefined) {
    if (q.length > 128) {
      findings.push(
        `Value '${q}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128`,
      );
    }
    if (!QUALIFIER.test(q)) {
      findings.push(
        `Value '${q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`,
      );
    }
  }
  if (findings.length > 0 || !match?.groups) throw validationError(findings);

  const { region, account, name, qualifier: fromName } = match.groups;
  if (account !== undefined && account !== scope.accountId) throw accessDenied(operation, value, scope);
  if (region !== undefined && region !== scope.region) {
    throw new AwsError(
      'ResourceNotFoundException',
      404,
      `Functions from '${region}' are not reachable in this region ('${scope.region}')`,
    );
  }
  if (q !== undefined && fromName !== undefined && q !== fromName) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  const resolved = q ?? fromName;
  return resolved === undefined ? { name } : { name, qualifier: resolved };
}

/**
 * What is wrong with a FunctionName. Lambda reports a plain name's length and pattern together
 * (CreateFunction's recorded refusals), but a namespaced one (Invoke, GetFunction, ...) over its length
 * and off its pattern by the pattern alone (their recorded refusals of a 232-character ARN of a
 * region that does not exist): its length is reported only for a value that fits the pattern.
 */
function nameFindings(value: string, namespaced: boolean, fitsPattern: boolean): string[] {
  const max = namespaced ? 170 : 140;
  const findings: string[] = [];
  if (value.length > max && (fitsPattern || !namespaced)) {
    findings.push(
      `Value '${value}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  if (!fitsPattern) {
    findings.push(
      `Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${namespaced ? NAMESPACED_PATTERN : PLAIN_PATTERN}`,
    );
  }
  return findings;
}

/**
 * Another account's function: IAM answers before Lambda looks (the local mesh grants nothing across
 * accounts), with its usual message naming the action and the resource.
 */
function accessDenied(operation: string, resource: string, scope: ServedScope): AwsError {
  const action = operation === 'Invoke' ? 'InvokeFunction' : operation;
  return new AwsError(
    'AccessDeniedException',
    403,
    `User: arn:aws:iam::${scope.accountId}:root is not authorized to perform: lambda:${action} on resource: ${resource} because no resource-based policy allows the lambda:${action} action`,
  );
}

/** `arn:aws:lambda:<region>:<acct>:function:<name>[:<q>]`, as AWS prints it in messages. */
export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}
