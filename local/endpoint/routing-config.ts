/**
 * Alias routing validation, as Lambda enforces it (AWS Lambda API Reference, "AliasRoutingConfiguration";
 * errors as AWS answers them). The request's shape is checked first, as AWS validates its model before
 * anything else: a weight outside 0-1 or a key that is not a version number
 * (`$LATEST`) is 400 ValidationException. Then what only Lambda knows: more than one extra version, the
 * alias's own version, a `$LATEST` alias are 400 InvalidParameterValueException, and a version that was
 * never published is 404 ResourceNotFoundException (`missing`). Pure: the caller passes the versions.
 */
import { type AwsError, invalidParameter } from './errors';
import { validationError } from './function-name';

export type AdditionalVersionWeights = Record<string, number>;

/**
 * Checks a RoutingConfig for an alias whose primary version is `primary`. Returns the normalised
 * weights (undefined = no routing) or throws AWS's error for the first thing wrong.
 */
export function validateRoutingConfig(
  routingConfig: unknown,
  primary: string,
  publishedVersions: readonly string[],
  missing: (version: string) => AwsError,
): AdditionalVersionWeights | undefined {
  if (routingConfig === undefined || routingConfig === null) return undefined;
  if (typeof routingConfig !== 'object' || Array.isArray(routingConfig)) {
    throw invalidParameter(
      `RoutingConfig must be an object like {"AdditionalVersionWeights":{"2":0.1}}, got ${JSON.stringify(routingConfig)}`,
    );
  }
  const weights = (routingConfig as { AdditionalVersionWeights?: unknown }).AdditionalVersionWeights;
  if (weights === undefined || weights === null) return undefined;
  if (typeof weights !== 'object' || Array.isArray(weights)) {
    throw invalidParameter(
      `AdditionalVersionWeights must be a map of version to weight, got ${JSON.stringify(weights)}`,
    );
  }
  const entries = Object.entries(weights as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  const shown = `{${entries.map(([v, w]) => `${v}=${javaDouble(w)}`).join(', ')}}`;
  const at = `Value '${shown}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint`;
  if (entries.some(([, w]) => typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1)) {
    throw validationError([
      `${at}: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`,
    ]);
  }
  if (entries.some(([v]) => !/^[0-9]+$/.test(v) || v.length > 1024)) {
    throw validationError([
      `${at}: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]`,
    ]);
  }
  if (entries.length > 1)
    throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
  const [version, weight] = entries[0] as [string, number];
  if (version === primary) {
    throw invalidParameter(
      `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
    );
  }
  if (primary === '$LATEST')
    throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
  if (!publishedVersions.includes(version)) throw missing(version);
  return { [version]: weight };
}

/** How Java prints a double in AWS's messages: `2.0`, `-1.0`, `0.5`. */
function javaDouble(v: unknown): string {
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}
