/**
 * The local endpoint serves the regions AWS has (local/endpoint/aws-regions.ts). Its list is written
 * out, since the local mesh never loads aws-cdk-lib; this keeps it in step with the regions aws-cdk-lib
 * knows, so a region CDK apps can deploy to is never refused locally.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { AWS_REGIONS } from '../../local/endpoint/aws-regions';

describe('the regions the local endpoint serves', () => {
  it("holds every region aws-cdk-lib's RegionInfo knows", () => {
    const missing = RegionInfo.regions.map((r) => r.name).filter((name) => !AWS_REGIONS.has(name));
    assert.deepEqual(missing, []);
  });

  it('holds region codes only', () => {
    for (const name of AWS_REGIONS) assert.match(name, /^[a-z]{2,4}(-[a-z]+)+-\d$/, name);
  });
});
