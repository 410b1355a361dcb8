/** HTTP header lookup for the runtime's inbound and routing code. */

/**
 * The value of header `name`, matched case-insensitively; a repeated header counts by its first
 * value, and anything that is not a string is no value.
 */
export function headerValue(headers: Readonly<Record<string, unknown>> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  // Own keys only: a header named like an Object property ("constructor") must not hit the prototype.
  let v = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (v === undefined) {
    const lower = name.toLowerCase();
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === lower) {
        v = headers[k];
        break;
      }
    }
  }
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'string' ? v : undefined;
}
