/**
 * One invocation of the mesh wrapper in a fresh Node process, as Lambda's runtime makes it: `_HANDLER`
 * names `wrapper.handler`, MESH_HANDLER the user's module under LAMBDA_TASK_ROOT, `lambda-mesh`
 * resolves through NODE_PATH. `wrapper` is the module to load: the built layer's wrapper.js, or the
 * TypeScript source (then the process runs with tsx).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sealSnapshot } from '../../shared/snapshot-seal';

/** What the fixture handlers (test/fixtures/runtime) answer. */
export interface FixtureResult {
  format?: string;
  event?: unknown;
  seenAtInit?: string;
  now?: string;
  status?: number;
  body?: { errorType?: string };
  denied?: boolean;
  isMeshError?: boolean;
  code?: string;
  nested?: boolean;
  got?: unknown;
  /** layer-files.cjs: the layer's files the process loaded, whether it loaded an AWS SDK module, the call's end. */
  files?: string[];
  sdk?: boolean;
  called?: string;
}

export interface WrapperRun {
  /** One entry per event, in order: the handler's result or the error it rejected with. */
  readonly answers: { result?: FixtureResult; error?: { name: string; message: string } }[];
  readonly stdout: string;
}

export const FIXTURES = join(__dirname, '../fixtures/runtime');

/** Writes a policy snapshot for service `hello` of mesh `shop` (allow#external unless `closed`). */
export function writeHelloSnapshot(path: string, options: { closed?: boolean; callers?: string[] } = {}): string {
  const items: unknown[] = [{ pk: 'hello', sk: 'service', functionName: 'shop-hello' }];
  if (!options.closed) items.push({ pk: 'hello', sk: 'allow#external', source: 'external' });
  for (const source of options.callers ?? []) items.push({ pk: 'hello', sk: `allow#${source}`, source });
  // Sealed, as synth writes it (shared/snapshot-seal.ts).
  writeFileSync(path, JSON.stringify(sealSnapshot({ mesh: 'shop', generatedAt: '', items })));
  return path;
}

export function runWrapper(options: {
  readonly wrapper: string;
  readonly handler: string;
  readonly events: readonly unknown[];
  readonly nodePath: string;
  /** LAMBDA_TASK_ROOT, where MESH_HANDLER is found (default: the fixtures in this repository). */
  readonly taskRoot?: string;
  readonly env?: Record<string, string>;
  readonly typescript?: boolean;
  /** The Invoke's client context, as the Node.js runtime hands it to the handler (`context.clientContext`). */
  readonly clientContext?: unknown;
  /** The function's time left at the first event, counting down (default: 3000 ms at every event). */
  readonly remainingMs?: number;
  /** Kills the process after this long (an invocation that never ends fails the test instead of hanging it). */
  readonly timeoutMs?: number;
}): WrapperRun {
  const remaining =
    options.remainingMs === undefined
      ? '() => 3000'
      : `((end) => () => end - Date.now())(Date.now() + ${options.remainingMs})`;
  const script = `
    const m = require(${JSON.stringify(options.wrapper)});
    const ctx = { awsRequestId: 'r1', functionVersion: '1', getRemainingTimeInMillis: ${remaining},
      clientContext: ${JSON.stringify(options.clientContext)} };
    (async () => {
      for (const e of ${JSON.stringify(options.events)}) {
        await m.handler(e, ctx).then(
          (r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'),
          (e) => process.stdout.write('ERROR ' + JSON.stringify({ name: e.name, message: e.message }) + '\\n'));
      }
      process.exit(0);
    })();`;
  const stdout = execFileSync(process.execPath, [...(options.typescript ? ['--import', 'tsx'] : []), '-e', script], {
    env: {
      PATH: process.env.PATH,
      NODE_PATH: `${options.nodePath}:${join(__dirname, '../../node_modules')}`,
      _HANDLER: join(dirname(options.wrapper), 'wrapper.handler'),
      LAMBDA_TASK_ROOT: options.taskRoot ?? FIXTURES,
      MESH_HANDLER: options.handler,
      MESH_NAME: 'shop',
      MESH_SERVICE: 'hello',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
      // c8 collects coverage of these processes too.
      ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
      ...options.env,
    },
    encoding: 'utf8',
    timeout: options.timeoutMs,
  });
  const answers = stdout
    .split('\n')
    .filter((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '))
    .map((l) => (l.startsWith('RESULT ') ? { result: JSON.parse(l.slice(7)) } : { error: JSON.parse(l.slice(6)) }));
  return { answers, stdout };
}
