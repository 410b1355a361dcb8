/**
 * IAM's `StringLike` condition operator: `*` matches any run of characters, `?` any one, everything else
 * itself ("IAM JSON policy elements: Condition operators", IAM User Guide). For tests that check which
 * keys a synthesized grant lets through.
 */
export function stringLike(pattern: string, value: string): boolean {
  const parts = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')));
  return new RegExp(`^${parts.join('')}$`, 's').test(value);
}
