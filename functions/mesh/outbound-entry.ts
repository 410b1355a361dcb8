/**
 * The outbound side, loaded by the first `call()` (its own file in the layer, see build.ts): the call
 * pipeline and the Lambda Invoke transport, the X-Ray emitter of its subsegments (telemetry requires it
 * from here), and for the shared breaker writer (a file of its own) the shared breaker model. A function that only serves requests never loads it.
 */
export { MeshClient } from './client';
export * from './resilience/shared-breaker';
export * from './telemetry/xray-emitter';
export { LambdaInvokeTransport } from './transport/lambda-invoke';
