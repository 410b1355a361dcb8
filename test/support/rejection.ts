/** The error a call rejects with, to look at more than `assert.rejects` matches; a call that succeeds fails the test. */
export async function rejection<E extends Error = Error>(call: () => Promise<unknown>): Promise<E> {
  try {
    await call();
  } catch (err) {
    return err as E;
  }
  throw new Error('the call succeeded; an error was expected');
}
