/**
 * How Lambda's Node.js runtime words a failure, for the local bootstrap (worker-bootstrap.js): the
 * answer's error document and the log line of a failed invocation, as the runtime interface client of
 * the nodejs20.x and nodejs22.x runtimes writes them (its Errors.js), and the newer client of
 * nodejs24.x where the two differ. Plain CommonJS, as the bootstrap.
 */

const util = require('node:util');

/** The runtime's test for an Error thrown from anywhere: a native one, or an object with a string name, message and stack. */
function isErrorLike(value) {
  return Boolean(
    value?.name &&
      value.message &&
      value.stack &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string',
  );
}

/**
 * The error document an invocation answers with (X-Amz-Function-Error: Unhandled): an Error by its name,
 * message and stack lines; anything else by its type and its string, with no trace (a thrown 'out of
 * stock' is errorType 'string'). The runtime writes a DEL character (0x7F) as %7F. When reading the value
 * throws, the runtime's own words, with no trace in the nodejs20.x and nodejs22.x runtimes. The
 * nodejs24.x runtime tells an Error by `instanceof` alone.
 */
function errorDocument(error, legacy = true) {
  try {
    if (legacy ? util.types.isNativeError(error) || isErrorLike(error) : error instanceof Error) {
      const stack = legacy ? error.stack.replaceAll('\x7F', '%7F') : error.stack?.replaceAll('\x7F', '%7F');
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: stack?.split('\n') || [],
      };
    }
    return { errorType: typeof error, errorMessage: legacy ? error.toString() : String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      ...(legacy ? {} : { trace: [] }),
    };
  }
}

/** What the runtime logs of a failure that is not an Error: an Error made of its string. */
function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

/**
 * An Error in a text log line, as the runtime writes it after its label ('Invoke Error', 'Uncaught
 * Exception'): a tab, then JSON with errorType, errorMessage, its `code`, its own enumerable fields and
 * its stack lines as `stack`. An Error among its fields (a rejection's reason) is written the same way.
 */
function formatted(error) {
  try {
    return `\t${JSON.stringify(error, (_key, value) => withFields(value))}`;
  } catch {
    return `\t${JSON.stringify(errorDocument(error))}`;
  }
}

function withFields(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

/**
 * An error class of the runtime's own (`Runtime.ImportModuleError`, ...): the name on its prototype,
 * so the stack's first line carries it, and the message the string of what it wraps, as
 * `new ImportModuleError(err)` makes it ('Error: Cannot find module ...').
 */
function runtimeErrorClass(name) {
  const RuntimeError = class extends Error {};
  RuntimeError.prototype.name = `Runtime.${name}`;
  return RuntimeError;
}

const ImportModuleError = runtimeErrorClass('ImportModuleError');
const UserCodeSyntaxError = runtimeErrorClass('UserCodeSyntaxError');
const HandlerNotFound = runtimeErrorClass('HandlerNotFound');

/** A promise nobody handled: its reason as the message (`new Error(reason)`), the reason and the promise kept as fields. */
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

/** An async handler whose promise never settled once nothing was left for the event loop to run. */
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';

module.exports = {
  NodeJsExit,
  errorDocument,
  formatted,
  intoError,
  ImportModuleError,
  UserCodeSyntaxError,
  HandlerNotFound,
  UnhandledPromiseRejection,
};
