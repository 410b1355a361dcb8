/**
 * The order of a FIFO queue's message groups across a failure. On a FIFO queue a consumer stops at a
 * group's first failure and gives back the records of that group it did not process, so the group
 * comes back in the order sent ("Handling errors for an SQS event source in Lambda", AWS Lambda
 * Developer Guide). The local event source mapping keeps them in the queue; the mesh's consumer does
 * not hand them to the handler. Pure.
 */

/**
 * The indexes of the items after a failed one of the same group, in the batch's order. Items of no
 * group (a standard queue's) are never held; other groups go on.
 */
export function laterInFailedGroups<T>(
  batch: readonly T[],
  groupOf: (item: T) => string | undefined,
  failed: (item: T, index: number) => boolean,
): Set<number> {
  const stopped = new Set<string>();
  const held = new Set<number>();
  batch.forEach((item, i) => {
    const group = groupOf(item);
    if (group === undefined) return;
    if (stopped.has(group)) held.add(i);
    else if (failed(item, i)) stopped.add(group);
  });
  return held;
}
