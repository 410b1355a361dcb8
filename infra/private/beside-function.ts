import { Names, Stack } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/**
 * Where a per-service resource of a mesh part (`owner`: the identity, the dashboard) goes: under `owner`
 * itself when the function is in the owner's stack (the logical ids a single-stack mesh always had), else
 * in the function's own stack, a nested stack of the mesh's. There the resource may refer to the function
 * and the function wait for it within one template: made in the mesh's stack, the mesh's stack would wait
 * for the nested stack's outputs while the nested stack waits for the resource, a cycle. It also keeps
 * the mesh's template from growing with every service, which is why nested stacks are used at all.
 */
export function besideFunction(owner: Construct, fn: IConstruct): Construct {
  const stack = Stack.of(fn);
  if (stack === Stack.of(owner)) return owner;
  const id = Names.uniqueId(owner);
  return (stack.node.tryFindChild(id) as Construct | undefined) ?? new Construct(stack, id);
}
