/**
 * Lambda version operations: PublishVersion, ListVersionsByFunction (API reference pages of the same
 * names). A version published here is Active at once, as Lambda answers PublishVersion of a settled
 * $LATEST; UpdateFunctionCode with Publish makes one that is Pending until it settles.
 */

import { AwsError } from './errors';
import { listedConfiguration } from './function-config';
import {
  functionNotFound,
  functionRef,
  jsonBody,
  type LambdaHandler,
  optionalString,
  paginate,
} from './lambda-context';

export const publishVersion: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req);
  const latest = ctx.registry.getFunction(ref.name);
  if (!latest) throw functionNotFound(ctx, ref.name);
  const body = jsonBody(req);
  const codeSha256 = optionalString(body, 'CodeSha256');
  if (codeSha256 !== undefined && latest.CodeSha256 !== undefined && codeSha256 !== latest.CodeSha256) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      `CodeSHA256 (${codeSha256}) is different from current CodeSHA256 in $LATEST (${latest.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
  const revisionId = optionalString(body, 'RevisionId');
  if (revisionId !== undefined && revisionId !== latest.RevisionId) throw staleRevision();
  const published = ctx.registry.publishVersion(ref.name, { Description: optionalString(body, 'Description') });
  return { status: 201, json: published };
};

export const listVersionsByFunction: LambdaHandler = (ctx, req) => {
  const ref = functionRef(ctx, req);
  const versions = ctx.registry.listVersions(ref.name);
  if (!versions) throw functionNotFound(ctx, ref.name);
  const { page, nextMarker } = paginate(versions.map(listedConfiguration), req.query, 50);
  return { status: 200, json: { Versions: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};

/**
 * 412, AWS's wording for a RevisionId that moved on. It names the call that reads the current one:
 * GetFunction/GetAlias for an update, publish or alias change; AddPermission names GetPolicy.
 */
export function staleRevision(readWith = 'GetFunction/GetAlias'): AwsError {
  return new AwsError(
    'PreconditionFailedException',
    412,
    `The Revision Id provided does not match the latest Revision Id. Call the ${readWith} API to retrieve the latest Revision Id`,
  );
}
