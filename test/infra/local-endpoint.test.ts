/**
 * `MeshFunction({ localEndpoint })`: off by default (no MESH_ENDPOINT_PORT, so the layer opens no
 * endpoint and loads none of its code); on, MESH_ENDPOINT_PORT=0 asks the wrapper for one on any free port.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { ENV as NAMES } from '../../shared/names';
import { DEMO, ENV, newApp } from './infra-fixture';

function environmentOf(localEndpoint: boolean | undefined): Record<string, string> {
  const stack = new Stack(newApp(), 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop' });
  new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'inventory.ts'), localEndpoint });
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === 'orders',
  )!;
  return fn.Properties.Environment.Variables;
}

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
