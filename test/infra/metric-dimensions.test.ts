/**
 * `Mesh({ metricDimensions })`: the standard sets need no environment variable; `detailed` reaches every
 * function as MESH_METRIC_DIMENSIONS, which the runtime reads; a value the runtime does not know is
 * refused at synth, naming it.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readConfig } from '../../functions/mesh/runtime-config';
import { Mesh } from '../../infra/mesh';
import { MeshFunction } from '../../infra/mesh-function';
import { MeshErrorCode } from '../../infra/mesh-validation-error';
import { ENV as NAMES } from '../../shared/names';
import type { MetricDimensions } from '../../shared/telemetry/metric-dimensions';
import { DEMO, ENV, newApp } from './infra-fixture';

function environmentOf(metricDimensions: MetricDimensions | undefined): Record<string, string> {
  const stack = new Stack(newApp(), 'Test', { env: ENV });
  const mesh = new Mesh(stack, 'Mesh', { meshName: 'shop', metricDimensions });
  new MeshFunction(stack, 'Orders', { mesh, service: 'orders', entry: join(DEMO, 'inventory.ts') });
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.Environment?.Variables?.[NAMES.service] === 'orders',
  )!;
  return fn.Properties.Environment.Variables;
}

describe('metricDimensions', () => {
  it('standard by default: no variable, and the runtime reads standard', () => {
    // GIVEN a mesh without the prop / WHEN synthesized
    const env = environmentOf(undefined);
    // THEN
    assert.equal(env[NAMES.metricDimensions], undefined);
    assert.equal(readConfig(env).metricDimensions, 'standard');
  });

  it('detailed reaches the runtime through MESH_METRIC_DIMENSIONS', () => {
    const env = environmentOf('detailed');
    assert.equal(env[NAMES.metricDimensions], 'detailed');
    assert.equal(readConfig(env).metricDimensions, 'detailed');
  });

  it('refuses a setting the runtime does not know, naming it and the choices', () => {
    const stack = new Stack(newApp(), 'Test', { env: ENV });
    assert.throws(
      () => new Mesh(stack, 'Mesh', { meshName: 'shop', metricDimensions: 'full' as MetricDimensions }),
      (err: Error & { code?: string }) =>
        err.code === MeshErrorCode.INVALID_METRIC_DIMENSIONS &&
        /metricDimensions must be one of 'standard', 'detailed', got "full"/.test(err.message),
    );
  });
});
