/**
 * Alias routing validation, as Lambda enforces it (AWS Lambda API Reference, "AliasRoutingConfiguration" and
 * "UpdateAlias"): at most one additional version, weight 0-1, a published version (digits, never $LATEST) that exists
 * and differs from the alias's primary version. Pure: the caller passes the published versions.
 */
import { isPublishedVersion } from '../../shared/names';
import { invalidParameter } from './errors';

export type AdditionalVersionWeights = Record<string, number>;

/**
 * Checks a RoutingConfig for an alias whose primary version is `primary`. Returns the normalised
 * weights (undefined = no routing) or throws 400 InvalidParameterValueException naming the bad value.
 */
export function validateRoutingConfig(
  routingConfig: unknown,
  primary: string,
  publishedVersions: readonly string[],
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
  if (entries.length > 1) {
    throw invalidParameter(
      `Number of items in AdditionalVersionWeights cannot be greater than 1, got ${entries.length} (${entries.map(([v]) => v).join(', ')}): an alias routes to at most two versions.`,
    );
  }
  const [version, weight] = entries[0];
  if (primary === '$LATEST' || version === '$LATEST') {
    throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
  }
  if (!isPublishedVersion(version)) {
    throw invalidParameter(
      `Invalid version ${JSON.stringify(version)} in AdditionalVersionWeights: give a published version number.`,
    );
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw invalidParameter(
      `Invalid weight ${JSON.stringify(weight)} for version ${version} in AdditionalVersionWeights: a weight is between 0.0 and 1.0.`,
    );
  }
  if (version === primary) {
    throw invalidParameter(
      `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
    );
  }
  if (!publishedVersions.includes(version)) {
    throw invalidParameter(
      `Function version ${version} in AdditionalVersionWeights is not a published version (published: ${publishedVersions.join(', ') || 'none'}): publish it first.`,
    );
  }
  return { [version]: weight };
}
