/**
 * `MeshFunction({ localEndpoint })`: off by default (no MESH_ENDPOINT_PORT, so the layer opens no
 * endpoint and loads none of its code); on, MESH_ENDPOINT_PORT=0 asks the wrapper for one on any free port.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENV as NAMES } from '../../shared/names';
import { ordersEnvironment } from './infra-fixture';

const environmentOf = (localEndpoint: boolean | undefined) => ordersEnvironment({}, { localEndpoint });
describe('localEndpoint', () => {
  it('off by default: no MESH_ENDPOINT_PORT', () => {
    // GIVEN a function without the prop / WHEN synthesized / THEN
    assert.equal(environmentOf(undefined)[NAMES.endpointPort], undefined);
    assert.equal(environmentOf(false)[NAMES.endpointPort], undefined);
  });

  it('on: MESH_ENDPOINT_PORT=0, any free port of the sandbox', () => {
    assert.equal(environmentOf(true)[NAMES.endpointPort], '0');
  });
});
