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

/** `<ISO time>\t<request id>\t<LEVEL>\t`: what Lambda's Node.js runtime writes before a console line's message. */
const RUNTIME_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[^\t]*\t(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t/;

/**
 * A log line's message: after the runtime's prefix on a console line, else the line as written. An EMF
 * object logged with console.log (as the embedded-metrics libraries for Node.js log it) is read from here.
 */
export function runtimeLogMessage(line: string): string {
  const prefix = RUNTIME_PREFIX.exec(line);
  return prefix ? line.slice(prefix[0].length) : line;
}

/** Quick test for a stdout line: cheap enough to run on every line a worker prints. */
export function looksLikeEmf(line: string): boolean {
  return line.startsWith('{') && line.includes('"_aws"') && line.includes('"CloudWatchMetrics"');
}

/** Why a line is not valid EMF: thrown inside the parser, returned as `{ ok: false, reason }`. */
class Rejected extends Error {}

function reject(reason: string): never {
  throw new Rejected(reason);
}

/** Parses an EMF object or a JSON line holding one. A line with any invalid part is rejected whole. */
export function parseEmf(input: unknown): EmfParseResult {
  let obj: unknown = input;
  if (typeof input === 'string') {
    try {
      obj = JSON.parse(input);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  try {
    if (!isRecord(obj)) reject('not a JSON object');
    const aws = obj._aws;
    if (!isRecord(aws)) reject('no _aws metadata object');
    const timestamp = aws.Timestamp;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
      reject(`_aws.Timestamp must be epoch ms, got ${JSON.stringify(timestamp)}`);
    }
    const directives = aws.CloudWatchMetrics;
    if (!Array.isArray(directives) || directives.length === 0) {
      reject('_aws.CloudWatchMetrics must be a non-empty array');
    }
    return { ok: true, samples: directives.flatMap((d) => directiveSamples(d, obj, timestamp)) };
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, reason: err.message };
    throw err;
  }
}

/** The samples of one directive: each metric under each of its dimension sets. */
function directiveSamples(d: unknown, root: Record<string, unknown>, timestamp: number): EmfSample[] {
  if (!isRecord(d)) reject('a CloudWatchMetrics directive is not an object');
  const namespace = d.Namespace;
  if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255) {
    reject(`Namespace must be 1-255 characters, got ${JSON.stringify(namespace)}`);
  }
  // "PutMetricData" (Amazon CloudWatch API Reference): namespaces starting with AWS/ are AWS services'.
  // Taking them would let any function write Lambda's own metrics, which a deployment's alarms read.
  if (namespace.startsWith('AWS/')) reject(`Namespace ${namespace} is reserved for AWS services (AWS/...)`);
  const sets = d.Dimensions;
  if (!Array.isArray(sets)) reject('Dimensions must be an array of arrays');
  const metrics = d.Metrics;
  if (!Array.isArray(metrics) || metrics.length > MAX_METRICS) {
    reject(`Metrics must be an array of at most ${MAX_METRICS}`);
  }
  const samples: EmfSample[] = [];
  // A directive with no dimension set still publishes its metrics, without dimensions.
  for (const set of sets.length === 0 ? [[]] : sets) {
    const dimensions = dimensionsOf(set, root);
    for (const m of metrics) {
      const { name, unit, values } = metricOf(m, root);
      samples.push({ namespace, name, unit, timestamp, dimensions, values });
    }
  }
  return samples;
}

/** A dimension set's names with their string values at the root. */
function dimensionsOf(set: unknown, root: Record<string, unknown>): Record<string, string> {
  if (!Array.isArray(set) || set.length > MAX_DIMENSIONS_PER_SET) {
    reject(`a dimension set must be an array of at most ${MAX_DIMENSIONS_PER_SET} names`);
  }
  const dimensions: Record<string, string> = {};
  for (const name of set) {
    if (typeof name !== 'string') reject('dimension names must be strings');
    const value = root[name];
    if (typeof value !== 'string') {
      reject(`dimension ${name} must have a string value at the root, got ${JSON.stringify(value)}`);
    }
    dimensions[name] = value;
  }
  return dimensions;
}

/** A metric definition and its values at the root: one number or an array of 1 to 100 of them. */
function metricOf(m: unknown, root: Record<string, unknown>): { name: string; unit?: string; values: number[] } {
  if (!isRecord(m) || typeof m.Name !== 'string' || m.Name.length === 0) reject('each metric needs a Name');
  const raw = root[m.Name];
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0 || values.length > MAX_VALUES) reject(`metric ${m.Name} must have 1-${MAX_VALUES} values`);
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    reject(`metric ${m.Name} values must be finite numbers, got ${JSON.stringify(raw)}`);
  }
  return { name: m.Name, unit: typeof m.Unit === 'string' ? m.Unit : undefined, values: values as number[] };
}
