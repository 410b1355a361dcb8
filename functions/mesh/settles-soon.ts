/**
 * Whether `run` settles within `turns` turns of the microtask queue (a rejection stays `run`'s to
 * report). Work that settles that soon waited on nothing (no I/O, no timer), so a race against a
 * deadline needs no timer for it: a process's first `setTimeout` costs a cold sandbox's first request
 * ~0.4 ms (Node compiles its functions on the first call), while promises are V8's own.
 */
export async function settlesSoon(run: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  run.then(mark, mark);
  for (let turn = 0; turn < turns && !settled; turn++) await undefined;
  return settled;
}
