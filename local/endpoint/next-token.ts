/**
 * Paging for the JSON protocols' `NextToken`: the token is the offset of the next page, base64, opaque to
 * the client as AWS's tokens are. A token that is not one is the caller's error, named by `invalid`.
 */
export function tokenPage<T>(
  items: readonly T[],
  token: string | undefined,
  size: number,
  invalid: (token: string) => Error,
): { page: T[]; nextToken?: string } {
  let start = 0;
  if (token !== undefined) {
    const text = Buffer.from(token, 'base64').toString('utf8');
    start = /^\d{1,9}$/.test(text) ? Number(text) : -1;
    if (start < 0 || start > items.length || Buffer.from(text).toString('base64') !== token) throw invalid(token);
  }
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(String(end)).toString('base64') } : { page };
}
