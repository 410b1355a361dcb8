// One Lambda sandbox in a fresh Node process, as the Node.js runtime drives it: init (require the
// handler's module), then invocations one after another, each in a later turn of the event loop.
// Prints one line `BENCH {...}` on stderr with what it measured (stdout is the function's log, which
// the bench sends to /dev/null: drained at once, as Lambda drains it):
//   initMs, firstMs (the first invocation), cpuMs (the CPU time of both: what they cost apart from
//   waiting for a core on a busy machine), rssMb after the last invocation, the first answer or error,
//   and the bytes of the files of BENCH_LAYER_DIR the process loaded (the layer's code per path).
// Plain JavaScript on purpose: a loader (tsx) would add its own time to every measure.
// Env: BENCH_MODULE (the file to require), BENCH_EVENT (JSON), BENCH_INVOCATIONS (default 1),
// BENCH_LAYER_DIR, BENCH_PRELOAD_POLICY (a service name: read its policy at init, for a comparison),
// BENCH_CA (a PEM file: the CA of the AWS stand-in, see below).
const { readFileSync, statSync } = require('node:fs');
const Module = require('node:module');

// BENCH_CA: the stand-in's CA, trusted by adding it to the options of each TLS connection the process
// makes (the mesh's own and the AWS SDK's https agent's alike). Given a CA, `tls.connect` still builds Node's root store on the first connection (measured:
// the same CPU time as without one), so that cost stays in the first request, where it is on Lambda.
// The hook wraps `connect` once node:tls (or node:https, which loads it) is first required, and then
// takes itself out: until then each require of either side passes through one more function.
if (process.env.BENCH_CA) {
  const ca = readFileSync(process.env.BENCH_CA, 'latin1');
  const load = Module._load;
  Module._load = function (request, ...rest) {
    const exported = load.call(this, request, ...rest);
    if (/^(node:)?(tls|https)$/.test(request)) {
      Module._load = load;
      const tls = require('node:tls');
      const connect = tls.connect;
      tls.connect = (options, ...more) =>
        connect(options && typeof options === 'object' && !options.ca ? { ...options, ca } : options, ...more);
    }
    return exported;
  };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const cpu0 = process.cpuUsage();
const t0 = now();
const mod = require(process.env.BENCH_MODULE);
if (process.env.BENCH_PRELOAD_POLICY) {
  // The same work the first invocation would do, done in the init phase instead.
  // The layer's wrapper.js: the module `lambda-mesh/runtime` resolves to.
  const rt = require(require('node:path').join(process.env.BENCH_LAYER_DIR, 'wrapper.js')).getRuntime();
  rt.policy.get(process.env.BENCH_PRELOAD_POLICY);
}
const initMs = now() - t0;

function context(i) {
  const deadline = Date.now() + 30_000;
  return {
    awsRequestId: `bench-${i}`,
    functionName: 'bench',
    functionVersion: '1',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

setImmediate(async () => {
  const event = JSON.parse(process.env.BENCH_EVENT || '{}');
  const n = Number(process.env.BENCH_INVOCATIONS || 1);
  let first;
  const t1 = now();
  try {
    first = { result: await mod.handler(event, context(1)) };
  } catch (err) {
    first = { error: `${err.name}: ${err.message}` };
  }
  const firstMs = now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  for (let i = 2; i <= n; i++) await mod.handler({ ...event, n: i }, context(i)).catch(() => undefined);
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const dir = process.env.BENCH_LAYER_DIR;
  const layerFiles = dir ? Object.keys(require.cache).filter((f) => f.startsWith(dir)) : [];
  const layerBytes = layerFiles.reduce((sum, f) => sum + statSync(f).size, 0);
  const files = layerFiles.map((f) => f.slice(dir.length + 1)).sort();
  // Exit once the line is flushed: a pipe is written asynchronously on Linux.
  const line = `\nBENCH ${JSON.stringify({ initMs, firstMs, cpuMs, rssMb, first, layerBytes, files })}\n`;
  process.stderr.write(line, () => process.exit(0));
});
