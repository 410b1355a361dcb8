/**
 * The outbound side, loaded by the first `call()` (its own file in the layer, see build.ts): the call
 * pipeline and the Lambda Invoke transport. A function that only serves requests never loads it.
 */
export { MeshClient } from './client';
export { LambdaInvokeTransport } from './transport/lambda-invoke';

// For the shared breaker writer (LAYER_FILES in build.ts).
export * from './resilience/shared-breaker';
