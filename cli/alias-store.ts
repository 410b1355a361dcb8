/** Adapter: the `live` alias and the published versions of a function, over the Lambda API. */
import { isPublishedVersion, LIVE_ALIAS } from '../shared/names';
import type { AliasState, AliasUpdate } from './alias-plan';
import type { AwsClients } from './aws-clients';
import { awsCall } from './errors';

export async function getLiveAlias(clients: AwsClients, functionName: string): Promise<AliasState> {
  const lambda = await clients.lambda();
  const { GetAliasCommand } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const a = await awsCall('GetAlias', () =>
    lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: LIVE_ALIAS })),
  );
  return {
    functionVersion: a.FunctionVersion ?? '$LATEST',
    weights: { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    revisionId: a.RevisionId,
    ...(a.Description ? { description: a.Description } : {}),
  };
}

/** Published versions (never $LATEST), oldest first. */
export async function listVersions(clients: AwsClients, functionName: string): Promise<string[]> {
  const lambda = await clients.lambda();
  const { ListVersionsByFunctionCommand } =
    require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const out: string[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('ListVersionsByFunction', () =>
      lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker })),
    );
    for (const v of page.Versions ?? []) if (v.Version && isPublishedVersion(v.Version)) out.push(v.Version);
    marker = page.NextMarker || undefined;
  } while (marker);
  return out.sort((a, b) => Number(a) - Number(b));
}

/**
 * Writes the alias. RevisionId makes it a compare-and-set: if someone changed the alias since we
 * read it, Lambda refuses (PreconditionFailedException) instead of silently overwriting.
 */
export async function updateLiveAlias(
  clients: AwsClients,
  functionName: string,
  update: AliasUpdate,
  revisionId: string | undefined,
): Promise<AliasState> {
  const lambda = await clients.lambda();
  const { UpdateAliasCommand } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const a = await awsCall('UpdateAlias', () =>
    lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: LIVE_ALIAS,
        FunctionVersion: update.functionVersion,
        // An empty map clears the routing: the stable version takes all traffic.
        RoutingConfig: { AdditionalVersionWeights: { ...update.weights } },
        ...(update.description !== undefined ? { Description: update.description } : {}),
        ...(revisionId ? { RevisionId: revisionId } : {}),
      }),
    ),
  );
  return {
    functionVersion: a.FunctionVersion ?? update.functionVersion,
    weights: { ...(a.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    revisionId: a.RevisionId,
    ...(a.Description ? { description: a.Description } : {}),
  };
}
