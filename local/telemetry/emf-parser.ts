/**
 * Parses CloudWatch Embedded Metric Format objects (Amazon CloudWatch User Guide, "Specification: Embedded metric
 * format") into flat metric samples. Powertools prints one directive with one dimension set and arrays of values; the
 * spec allows several directives and sets, so every (directive, set) pair yields samples. Anything malformed is
 * rejected whole with a reason: a half-read metric line would skew the golden metrics.
 */

/** One metric of one EMF object, with the dimension values of one dimension set. */
export interface EmfSample {
  readonly namespace: string;
  readonly name: string;
  readonly unit: string | undefined;
  /** Epoch ms from `_aws.Timestamp`. */
  readonly timestamp: number;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly number[];
}

export type EmfParseResult =
  | { readonly ok: true; readonly samples: EmfSample[] }
  | { readonly ok: false; readonly reason: string };

/** Caps from the EMF specification. */
const MAX_METRICS = 100;
const MAX_VALUES = 100;
const MAX_DIMENSIONS_PER_SET = 30;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Quick test for a stdout line: cheap enough to run on every line a worker prints. */
export function looksLikeEmf(line: string): boolean {
  return line.startsWith('{') && line.includes('"_aws"') && line.includes('"CloudWatchMetrics"');
}

/** Parses an EMF object or a JSON line holding one. */
export function parseEmf(input: unknown): EmfParseResult {
  let obj: unknown = input;
  if (typeof input === 'string') {
    try {
      obj = JSON.parse(input);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  if (!isRecord(obj)) return { ok: false, reason: 'not a JSON object' };
  const aws = obj._aws;
  if (!isRecord(aws)) return { ok: false, reason: 'no _aws metadata object' };
  const timestamp = aws.Timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    return { ok: false, reason: `_aws.Timestamp must be epoch ms, got ${JSON.stringify(timestamp)}` };
  }
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) {
    return { ok: false, reason: '_aws.CloudWatchMetrics must be a non-empty array' };
  }
  const samples: EmfSample[] = [];
  for (const d of directives) {
    if (!isRecord(d)) return { ok: false, reason: 'a CloudWatchMetrics directive is not an object' };
    const namespace = d.Namespace;
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255) {
      return { ok: false, reason: `Namespace must be 1-255 characters, got ${JSON.stringify(namespace)}` };
    }
    const sets = d.Dimensions;
    if (!Array.isArray(sets)) return { ok: false, reason: 'Dimensions must be an array of arrays' };
    const metrics = d.Metrics;
    if (!Array.isArray(metrics) || metrics.length > MAX_METRICS) {
      return { ok: false, reason: `Metrics must be an array of at most ${MAX_METRICS}` };
    }
    // A directive with no dimension set still publishes its metrics, without dimensions.
    const dimSets: unknown[] = sets.length === 0 ? [[]] : sets;
    for (const set of dimSets) {
      if (!Array.isArray(set) || set.length > MAX_DIMENSIONS_PER_SET) {
        return { ok: false, reason: `a dimension set must be an array of at most ${MAX_DIMENSIONS_PER_SET} names` };
      }
      const dimensions: Record<string, string> = {};
      for (const name of set) {
        if (typeof name !== 'string') return { ok: false, reason: 'dimension names must be strings' };
        const value = obj[name];
        if (typeof value !== 'string') {
          return {
            ok: false,
            reason: `dimension ${name} must have a string value at the root, got ${JSON.stringify(value)}`,
          };
        }
        dimensions[name] = value;
      }
      for (const m of metrics) {
        if (!isRecord(m) || typeof m.Name !== 'string' || m.Name.length === 0) {
          return { ok: false, reason: 'each metric needs a Name' };
        }
        const raw = obj[m.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        if (values.length === 0 || values.length > MAX_VALUES) {
          return { ok: false, reason: `metric ${m.Name} must have 1-${MAX_VALUES} values` };
        }
        if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          return { ok: false, reason: `metric ${m.Name} values must be finite numbers, got ${JSON.stringify(raw)}` };
        }
        samples.push({
          namespace,
          name: m.Name,
          unit: typeof m.Unit === 'string' ? m.Unit : undefined,
          timestamp,
          dimensions,
          values: values as number[],
        });
      }
    }
  }
  return { ok: true, samples };
}
