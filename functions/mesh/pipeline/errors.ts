/**
 * The runtime's error classes, as the stages import them. The layer bundles the pipeline into
 * outbound.js and keeps every `./errors` import out of it (build.ts): at run time this path
 * resolves to wrapper.js, which holds the classes, so `instanceof MeshError` holds in application
 * code. An import of `../errors` from here would bundle a second copy.
 */
// Named, not `export *`: the bundle then reads each class from wrapper.js where it is used, instead of
// copying all of wrapper.js's exports when a first call loads outbound.js.
export {
  MeshCallError,
  MeshCircuitOpenError,
  MeshDeniedError,
  MeshError,
  MeshOutcomeUnknownError,
  MeshRateLimitedError,
  MeshRemoteError,
  MeshThrottledError,
  MeshTimeoutError,
  MeshUnauthenticatedError,
} from '../errors';
