import { Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/** Lambda's limit on the layers of one function ("Lambda quotas"). */
export const LAMBDA_LAYER_LIMIT = 5;

/** Layers every mesh function gets besides its own: the mesh's runtime layer and its policy snapshot layer. */
export const MESH_LAYER_COUNT = 2;

/**
 * Adds the policy snapshot layer to `fn`'s Layers property, last, rather than with `addLayers`: with
 * aws-cdk-lib's `@aws-cdk/aws-lambda:recognizeLayerVersion`, the hash behind `currentVersion` takes in
 * the content of every layer added that way, so a policy change would publish a new version of every
 * function (and start a canary on each gated one). Here the hash sees only the layer's reference,
 * whose logical id never changes: $LATEST gets each deploy's snapshot, a version keeps its deploy's.
 * Rendered at synth from the function's own layers, so layers added later stay in.
 */
export function attachSnapshotLayer(fn: lambda.Function, snapshot: lambda.ILayerVersion): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const own = cfn.layers;
  // Uncached: a nested stack's function resolves the reference once before and once after CDK turns it into a parameter.
  const layers = Lazy.uncachedAny({
    produce: (ctx) => [...((ctx.resolve(own) as unknown[] | undefined) ?? []), snapshot.layerVersionArn],
  });
  cfn.layers = Token.asList(layers);
  fn.node.addValidation({ validate: () => checkLayerCount(fn, cfn) });
}

/** Lambda refuses a function with more than five layers; the deploy would fail on it. */
function checkLayerCount(fn: lambda.Function, cfn: lambda.CfnFunction): string[] {
  const count = (Stack.of(fn).resolve(cfn.layers) as unknown[] | undefined)?.length ?? 0;
  return count > LAMBDA_LAYER_LIMIT ? [`MeshFunction ${fn.node.path}: ${tooManyLayers(count)}`] : [];
}

/** What to say of a mesh function with `count` layers in all, the mesh's two included. */
export function tooManyLayers(count: number): string {
  return (
    `${count} layers, over Lambda's limit of ${LAMBDA_LAYER_LIMIT} per function (the mesh adds ${MESH_LAYER_COUNT}: ` +
    `its runtime layer and its policy snapshot layer); give the function at most ${LAMBDA_LAYER_LIMIT - MESH_LAYER_COUNT} ` +
    'layers of its own, e.g. by merging two of them into one'
  );
}
