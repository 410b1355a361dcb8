/**
 * The outbound side, loaded by the first `call()` (its own file in the layer, see build.ts): the call
 * pipeline and the Lambda Invoke transport, and for the shared breaker writer (a file of its own) the
 * shared breaker model, and for the rate-limit table leaser (a file of its own) the lease arithmetic.
 * A function that only serves requests never loads it.
 */

export * from './async/event-envelope';
export { MeshClient } from './client';
export * from './resilience/rate-limit';
export * from './resilience/shared-breaker';
export { LambdaInvokeTransport } from './transport/lambda-invoke';
