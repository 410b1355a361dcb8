/** The mesh runtime: what apps import as `lambda-mesh`, and the layer's wrapper handler. */
export {};
