/**
 * JSON with object keys sorted at every level, so two values that differ only in the order their
 * fields were set in compare equal (a policy item declared twice, an item before and after a deploy).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}
