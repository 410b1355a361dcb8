/**
 * The runtime's error classes, as the stages import them. The layer bundles the pipeline into
 * runtime-entry.js and keeps every `./errors` import out of it (build.ts): at run time this path
 * resolves to the layer's errors.js, whose classes are index.js's own, so `instanceof MeshError`
 * holds in application code. An import of `../errors` from here would bundle a second copy.
 */
export * from '../errors';
