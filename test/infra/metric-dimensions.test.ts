/**
 * `Mesh({ metricDimensions })`: the standard sets need no environment variable; `detailed` reaches every
 * function as MESH_METRIC_DIMENSIONS, which the runtime reads; a value the runtime does not know is
 * refused at synth, naming it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { readConfig } from '../../functions/mesh/runtime-config';
import { Mesh } from '../../infra/mesh';
import { MeshErrorCode } from '../../infra/mesh-validation-error';
import { ENV as NAMES } from '../../shared/names';
import type { MetricDimensions } from '../../shared/telemetry/metric-dimensions';
import { ENV, newApp, ordersEnvironment } from './infra-fixture';

const environmentOf = (metricDimensions: MetricDimensions | undefined) => ordersEnvironment({ metricDimensions });

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
