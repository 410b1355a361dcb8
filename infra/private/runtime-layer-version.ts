import { type CfnResource, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Makes `fn`'s `currentVersion` follow the mesh's runtime layer: a new runtime (an upgrade of the
 * package) publishes a new version of every mesh function, so `live` runs it. aws-cdk-lib hashes a
 * layer's content into the version only with its feature flag `@aws-cdk/aws-lambda:recognizeLayerVersion`
 * on; without it a version hashes the layer's Ref, which never changes, and live versions would keep the
 * old runtime until their own code changed. The layer's code location (its S3 key: the asset's hash, as
 * the stack synthesizer writes it) is mixed into the hash either way.
 */
export function versionFollowsRuntimeLayer(fn: lambda.Function, layer: lambda.ILayerVersion): void {
  const resource = layer.node.defaultChild as CfnResource | undefined;
  if (!resource) return; // a layer of another app (fromLayerVersionArn): its ARN is already in the hash
  const template = Stack.of(resource).resolve(resource._toCloudFormation()) as {
    Resources: Record<string, { Properties?: { Content?: unknown } }>;
  };
  const [layerResource] = Object.values(template.Resources);
  fn.invalidateVersionBasedOn(JSON.stringify(layerResource?.Properties?.Content ?? null));
}
