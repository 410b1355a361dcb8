/**
 * The outbound side, loaded by the first `call()` (its own file in the layer, see build.ts): the call
 * pipeline with the factory the runtime builds its client with, and the Lambda Invoke transport. It
 * also provides the modules that files required after it, or only for calls, share: the declared HTTP
 * targets' parser (the runtime's `httpTargets`, the HTTP target file), the X-Ray emitter of the calls'
 * subsegments (telemetry), the shared breaker model (the shared breaker writer), the lease arithmetic
 * (the rate-limit table leaser) and the asynchronous envelope. A function that only serves requests
 * never loads it.
 */
export * from '../../shared/http-target';
export * from './async/event-envelope';
export { MeshClient } from './client';
export { createMeshClient } from './outbound-client';
export * from './resilience/rate-limit';
export * from './resilience/shared-breaker';
export * from './telemetry/xray-emitter';
export { LambdaInvokeTransport } from './transport/lambda-invoke';
