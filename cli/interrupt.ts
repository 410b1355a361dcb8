/**
 * Stopping the commands that run until stopped (`--watch`, `mesh tap`, `mesh rollout`). Two things stop
 * them: Ctrl-C, and stdout's reader going away (`mesh tap | head -3`: once `head` has its lines, every
 * write fails with EPIPE). Either aborts a signal the command checks between steps, and its waits end at
 * once: a live view returns and exits 0, as stopping it is how it is meant to end, not a failure; a
 * rollout rolls back, as nobody sees its gates any more.
 */

/** What stopped a command: Ctrl-C, or the reader of its output closing the pipe. */
export type StopCause = 'ctrl-c' | 'output-closed';

const outputListeners = new Set<(cause: StopCause) => void>();
let outputClosed = false;

/** Stdout's reader has gone (EPIPE): every command waiting for a stop is stopped. */
export function outputGone(): void {
  if (outputClosed) return;
  outputClosed = true;
  for (const listener of [...outputListeners]) listener('output-closed');
}

/** Calls `listener` on Ctrl-C or once stdout's reader has gone; returns what stops listening. */
export function onStop(listener: (cause: StopCause) => void): () => void {
  const onSigint = () => listener('ctrl-c');
  process.on('SIGINT', onSigint);
  outputListeners.add(listener);
  if (outputClosed) queueMicrotask(() => listener('output-closed'));
  return () => {
    process.off('SIGINT', onSigint);
    outputListeners.delete(listener);
  };
}

/** Runs `body` with a signal that Ctrl-C (or stdout's reader going away) aborts; the handler is gone once `body` settles. */
export async function untilCtrlC<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const off = onStop(() => stop.abort());
  try {
    return await body(stop.signal);
  } finally {
    off();
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
