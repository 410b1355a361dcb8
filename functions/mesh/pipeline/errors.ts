/**
 * The runtime's error classes, as the stages import them. The layer bundles the pipeline into
 * outbound.js and keeps every `./errors` import out of it (build.ts): at run time this path
 * resolves to the layer's errors.js, whose classes are wrapper.js's own, so `instanceof MeshError`
 * holds in application code. An import of `../errors` from here would bundle a second copy.
 */
export * from '../errors';
