/**
 * Ctrl-C for the commands that run until stopped (\`--watch\`, \`mesh tap\`): SIGINT aborts a signal the
 * command checks between steps and its waits end at once, so it returns and exits 0: stopping a live
 * view is how it is meant to end, not a failure.
 */

/** Runs \`body\` with a signal that Ctrl-C aborts; the handler is gone once \`body\` settles. */
export async function untilCtrlC<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    return await body(stop.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Waits \`ms\`, or less when \`signal\` aborts meanwhile. */
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
