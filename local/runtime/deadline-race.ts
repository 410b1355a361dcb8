/**
 * An invocation against its function's timeout, as Lambda judges it: an answer the environment gave
 * before the deadline counts, even when this process reads it late.
 */

/**
 * Resolves with `work`'s value, or with 'timeout' once `deadlineMs` (epoch ms) has passed without it.
 *
 * Node runs a loop turn's expired timers before it reads the I/O that arrived while the loop was
 * busy: on a crowded machine the deadline's timer and a worker's answer sent well before it can come
 * due in the same turn, and a bare timer would kill an environment that had answered in time. So the
 * deadline resolves in the turn's check phase (`setImmediate`), after that turn's I/O has been read.
 */
export function untilDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => setImmediate(() => resolve('timeout')), Math.max(0, deadlineMs - Date.now()));
  });
  return Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
}
