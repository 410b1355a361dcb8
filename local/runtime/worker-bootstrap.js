/**
 * The local stand-in for Lambda's Node.js runtime client, one per execution environment (a forked
 * child process). Plain CommonJS JavaScript on purpose: it runs the bundled asset as Lambda would,
 * without a TypeScript loader in the cold start. Protocol (IPC):
 *   parent -> {type:'invoke', id, payload, deadlineMs, invokedFunctionArn, clientContext, traceId}
 *   child  -> {type:'ready', initMs, maxRssKb} | {type:'result', id, payload, maxRssKb} | {type:'error', id, error, maxRssKb}
 *           | {type:'initError', error}   (error.fatal: the environment is ending)
 * Init (loading the handler) happens right at start, as Lambda's init phase.
 */

const path = require('node:path');
const { pathToFileURL } = require('node:url');
const fs = require('node:fs');
const util = require('node:util');
const {
  errorDocument,
  formatted,
  intoError,
  HandlerNotFound,
  ImportModuleError,
  NodeJsExit,
  UnhandledPromiseRejection,
  UserCodeSyntaxError,
} = require('./runtime-errors.js');

const started = Date.now();
const env = process.env;
/** What ends an invocation's output on stdout and stderr (given by the parent, unknown to the function). */
const LOG_MARK = process.argv[2];

/**
 * The runtime interface client of nodejs20.x and nodejs22.x (callbacks, a handler's plain return value
 * ignored) or the newer one of nodejs24.x and later (no callbacks, a plain return value the result).
 */
const LEGACY_CLIENT = Number(/nodejs(\d+)/.exec(env.AWS_EXECUTION_ENV || '')?.[1] ?? 22) < 24;

/** The handler's module: an ES module through import(), CommonJS through require. */
async function loadModule(file) {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (err) {
    if (err && err.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw err;
  }
}

/**
 * What loading the handler threw, as Lambda's Node.js runtime reports it (its runtime interface
 * client's _loadUserApp): a module require could not find is `Runtime.ImportModuleError`, a syntax error
 * `Runtime.UserCodeSyntaxError`; anything else as it was thrown (an ES module's missing package, Node's
 * ERR_MODULE_NOT_FOUND, stays an Error: "Cannot find package 'x' imported from ...").
 */
function initError(err) {
  if (err instanceof SyntaxError) return new UserCodeSyntaxError(err);
  if (err && err.code === 'MODULE_NOT_FOUND') return new ImportModuleError(err);
  return err;
}

/** `_HANDLER` = `<path/module>.<export>`; the module is relative to LAMBDA_TASK_ROOT unless absolute. */
async function loadHandler() {
  const spec = env._HANDLER || 'index.handler';
  const dot = spec.lastIndexOf('.');
  const modulePart = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1);
  const base = path.isAbsolute(modulePart) ? modulePart : path.join(env.LAMBDA_TASK_ROOT || process.cwd(), modulePart);
  let file;
  for (const ext of ['.js', '.cjs', '.mjs', '']) {
    if (fs.existsSync(base + ext) && fs.statSync(base + ext).isFile()) {
      file = base + ext;
      break;
    }
  }
  if (!file) {
    // What require says of a missing file, the runtime the one requiring it.
    throw Object.assign(new Error(`Cannot find module '${modulePart}'\nRequire stack:\n- ${__filename}`), {
      code: 'MODULE_NOT_FOUND',
    });
  }
  const mod = await loadModule(file);
  let fn = mod;
  for (const part of exportPath.split('.')) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) fn = mod.default[exportPath];
  if (!fn) throw new HandlerNotFound(`${spec} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${spec} is not a function`);
  return fn;
}

function makeContext(msg) {
  let clientContext;
  if (msg.clientContext) {
    try {
      clientContext = JSON.parse(msg.clientContext);
    } catch {
      clientContext = undefined;
    }
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: msg.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: msg.id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadlineMs - Date.now()),
    done() {},
    succeed() {},
    fail() {},
  };
}

/**
 * What the invocation in flight does once its event loop is empty (the runtime's beforeExit listener):
 * the nodejs20.x and nodejs22.x runtimes answer then for a handler that has not yet, and a callback's
 * result waits for it.
 */
let onEmptyLoop;

/** The handler's function is `async` (the runtime interface client's test). */
function isAsync(handler) {
  try {
    return handler.constructor?.name === 'AsyncFunction';
  } catch {
    return false;
  }
}

/**
 * The callback and context.done, succeed and fail, as the runtime interface client of nodejs20.x and
 * nodejs22.x makes them: the first call of any of them counts; context.fail() with nothing fails with
 * the string 'handled'; the callback's result waits for the event loop to be empty unless
 * context.callbackWaitsForEmptyEventLoop was set to false (context.done and succeed do not wait).
 */
function callbacks(context, settle) {
  let called = false;
  const once =
    (fn) =>
    (...args) => {
      if (called) return;
      called = true;
      fn(...args);
    };
  const done = (err, value) => settle(err !== null && err !== undefined ? { error: err } : { value });
  context.done = once(done);
  context.succeed = once((value) => done(null, value));
  context.fail = once((err) => done(err ?? 'handled'));
  return once((err, value) => {
    onEmptyLoop = undefined;
    if ((err !== null && err !== undefined) || !context.callbackWaitsForEmptyEventLoop) done(err, value);
    else onEmptyLoop = () => done(null, value);
  });
}

/**
 * Runs the handler as the runtime interface client does; it settles with `{ value }` or `{ error }`.
 * nodejs20.x and nodejs22.x: a returned promise settles it at once (rejected with nothing: the string
 * 'handled'), else the callback or context (`callbacks`); a handler that has not answered once the event
 * loop is empty answers null, or, an async one, Runtime.NodeJsExit (its promise never settled). From
 * nodejs24.x a plain return value is the result and a rejection an error whatever its value.
 */
function run(handler, event, context) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      onEmptyLoop = undefined;
      resolve(outcome);
    };
    if (LEGACY_CLIENT)
      onEmptyLoop = () => settle(isAsync(handler) ? { error: new NodeJsExit() } : { value: undefined });
    const callback = callbacks(context, settle);
    try {
      const out = handler(event, context, callback);
      const rejected = LEGACY_CLIENT ? context.fail : (err) => settle({ error: err });
      if (out && typeof out.then === 'function') out.then(context.succeed, rejected);
      else if (!LEGACY_CLIENT) settle({ value: out });
    } catch (err) {
      if (LEGACY_CLIENT) callback(err);
      else settle({ error: err });
    }
  });
}

let handlerPromise;
let current; // the invocation in flight, if any

/** The level each console method logs at, as Lambda's Node.js runtime interface client names them. */
const CONSOLE_LEVELS = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  log: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'FATAL',
};

/**
 * One log event on stdout, as the runtime hands it to Lambda: the parent reads a line that starts with
 * the mark and a tab as one event whose text is the JSON string after them, newlines and all ("Log and
 * monitor Node.js Lambda functions", AWS Lambda Developer Guide: a console call is one event). Lambda's
 * runtime writes such events to a file descriptor of its own, out of band; here they share the pipe
 * with the function's raw output so the two keep their order. Without a mark (run outside the local
 * mesh), the runtime's own fallback on stdout: newlines turned into carriage returns.
 */
function writeEvent(text) {
  if (LOG_MARK) process.stdout.write(`${LOG_MARK}\t${JSON.stringify(text)}\n`);
  else process.stdout.write(`${text.replace(/\n/g, '\r')}\n`);
}

/** Whether the function logs in JSON (LoggingConfig.LogFormat, which Lambda hands the runtime as AWS_LAMBDA_LOG_FORMAT). */
const JSON_FORMAT = String(env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

/** An Error as the runtime writes it inside a JSON log event: its type, message and stack lines, and its own fields. */
function errorFields(value) {
  if (!(value instanceof Error)) return value;
  const stackTrace = typeof value.stack === 'string' ? value.stack.split('\n') : value.stack;
  return { errorType: value.constructor?.name ?? 'UnknownError', errorMessage: value.message, stackTrace, ...value };
}

/**
 * A console call as a JSON log event ("Log and monitor Node.js Lambda functions", AWS Lambda Developer
 * Guide, advanced logging controls): timestamp, level, requestId and message. A single argument is the
 * message as it is (an object stays an object, an Error becomes its fields); one that JSON cannot hold
 * (a cycle, a BigInt) is util.format's text. Several arguments are util.format's text, and the first
 * Error among them adds errorType, errorMessage and stackTrace beside it, as the runtime interface client does.
 */
function jsonEvent(time, level, args) {
  const event = { timestamp: time, level, requestId: current };
  if (args.length === 1) {
    try {
      return JSON.stringify({ ...event, message: args[0] }, (_key, value) => errorFields(value));
    } catch {
      return JSON.stringify({ ...event, message: util.format(args[0]) });
    }
  }
  const error = args.find((a) => a instanceof Error);
  const fields = error
    ? {
        errorType: error.constructor?.name ?? 'UnknownError',
        errorMessage: error.message,
        stackTrace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      }
    : {};
  return JSON.stringify({ ...event, message: util.format(...args), ...fields });
}

/**
 * console as Lambda's Node.js runtime patches it ("Log and monitor Node.js Lambda functions", AWS
 * Lambda Developer Guide): each call one event, in the text format `<ISO time>\t<request id>\t<LEVEL>\t<message>`
 * (the message as util.format writes the arguments, the request id the invocation's, 'undefined'
 * outside one) or in the JSON format (jsonEvent). Every level goes to the one log, as the runtime
 * interface client writes them all to the same place; the parent drops the levels below
 * AWS_LAMBDA_LOG_LEVEL (local/runtime/log-format.ts). Writes to process.stdout and process.stderr stay
 * as written, one event per line.
 */
function patchConsole() {
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    console[method] = (...args) => {
      const time = new Date().toISOString();
      writeEvent(
        JSON_FORMAT
          ? jsonEvent(time, level, args)
          : `${time}\t${current || 'undefined'}\t${level}\t${util.format(...args)}`,
      );
    };
  }
}

/**
 * The runtime's own log of a failure: in the text format its label and the error's JSON (the value made
 * an Error when it is not one), in the JSON format the error as the message of an ERROR event (the
 * runtime interface client's logError).
 */
function logFailure(label, err) {
  if (JSON_FORMAT) console.error(intoError(err));
  else console.error(label, formatted(intoError(err)));
}

process.on('message', async (msg) => {
  if (msg?.type !== 'invoke') return;
  current = msg.id;
  if (msg.traceId) env._X_AMZN_TRACE_ID = msg.traceId;
  else delete env._X_AMZN_TRACE_ID;
  let result;
  try {
    const handler = await handlerPromise;
    // The IPC channel keeps no event loop alive while a handler runs, so an empty one is seen (beforeExit).
    if (LEGACY_CLIENT) process.channel?.unref();
    const outcome = await run(handler, JSON.parse(msg.payload), makeContext(msg));
    process.channel?.ref();
    if ('error' in outcome) throw outcome.error;
    const { value } = outcome;
    result = { type: 'result', id: msg.id, payload: value === undefined ? 'null' : JSON.stringify(value) };
  } catch (err) {
    logFailure('Invoke Error', err);
    result = { type: 'error', id: msg.id, error: errorDocument(err, LEGACY_CLIENT) };
  }
  current = undefined;
  // The environment's peak memory so far, for the REPORT line's Max Memory Used.
  result.maxRssKb = process.resourceUsage().maxRSS;
  // The invocation's output ends with a mark on each stream: the parent reads the pipes and the IPC
  // channel apart, and takes the log tail once both marks have come (local/runtime/worker.ts).
  if (LOG_MARK) {
    process.stdout.write(`${LOG_MARK} ${msg.id}\n`);
    process.stderr.write(`${LOG_MARK} ${msg.id}\n`);
  }
  process.stdout.write('', () => process.send(result));
});

// As Lambda's Node runtime: an unhandled rejection fails the invocation in flight
// (Runtime.UnhandledPromiseRejection) and ends the environment.
process.on('unhandledRejection', (reason, promise) => {
  const error = new UnhandledPromiseRejection(reason, promise);
  logFailure('Unhandled Promise Rejection', error);
  const body = errorDocument(error, LEGACY_CLIENT);
  const exit = () => process.stdout.write('', () => process.exit(128));
  if (current) {
    process.send(
      { type: 'error', id: current, error: body, fatal: true, maxRssKb: process.resourceUsage().maxRSS },
      exit,
    );
  } else exit();
});

process.on('beforeExit', () => onEmptyLoop?.());

// The mesh went away (even by SIGKILL, which runs no cleanup): an environment never outlives it.
process.on('disconnect', () => process.exit(0));

/**
 * Whether the function's own handler (MESH_HANDLER behind the mesh's wrapper, else _HANDLER) is an .mjs
 * file: what NodejsFunction writes for `format: OutputFormat.ESM`.
 */
function handlerIsEsModule() {
  const spec = env.MESH_HANDLER || env._HANDLER || 'index.handler';
  const modulePart = spec.slice(0, spec.lastIndexOf('.'));
  const base = path.isAbsolute(modulePart) ? modulePart : path.join(env.LAMBDA_TASK_ROOT || process.cwd(), modulePart);
  return fs.existsSync(`${base}.mjs`);
}

/**
 * ES module imports find the layers' packages too (esm-layer-resolve.mjs). Only for an ES module
 * handler: starting Node's module hooks costs an environment's init ~0.1 s, which CommonJS, finding
 * the layers through NODE_PATH, need not pay.
 */
function resolveEsmFromLayers() {
  const { register } = require('node:module');
  if (typeof register !== 'function' || !env.NODE_PATH || !handlerIsEsModule()) return;
  const folders = env.NODE_PATH.split(path.delimiter).filter(Boolean);
  register(pathToFileURL(path.join(__dirname, 'esm-layer-resolve.mjs')).href, { data: { folders } });
}

/**
 * A failed init, as Lambda's runtime reports it: logged as an uncaught exception (its `stack` the
 * answer's `trace`), and the answer of the invocation that waited for it. The log's end is marked as an
 * invocation's is, so the parent has the line before it answers.
 */
function failInit(err) {
  const error = initError(err);
  logFailure('Uncaught Exception', error);
  const body = errorDocument(error, LEGACY_CLIENT);
  if (LOG_MARK) {
    process.stdout.write(`${LOG_MARK} init\n`);
    process.stderr.write(`${LOG_MARK} init\n`);
  }
  process.stderr.write('', () => process.send({ type: 'initError', error: body }));
}

patchConsole();
resolveEsmFromLayers();
handlerPromise = loadHandler();
handlerPromise.then(
  () => process.send({ type: 'ready', initMs: Date.now() - started, maxRssKb: process.resourceUsage().maxRSS }),
  failInit,
);
// Swallow here: the initError message above reports it on every invocation.
handlerPromise.catch(() => {});
