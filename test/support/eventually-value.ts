import assert from 'node:assert/strict';

/**
 * The first value `get` gives other than undefined, asked every 100 ms, for at most `ms`; past that the
 * test fails naming `what` (and, with `detail`, what it says, such as the mesh's log so far).
 */
export async function eventuallyValue<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
  detail?: () => string,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`${what} did not happen within ${ms} ms${detail ? `; ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
