/**
 * A local endpoint serving CloudWatch alone, in its JSON and its query protocol, over a metric store and
 * alarms the test fills, with the real SDK's client pointed at it.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AlarmRegistry } from '../../local/cloudwatch/alarms';
import { type CloudWatchState, handleCloudWatch } from '../../local/cloudwatch/cloudwatch-api';
import { cloudWatchQueryService } from '../../local/cloudwatch/cloudwatch-query';
import { MetricStore } from '../../local/cloudwatch/metric-store';
import { startEndpoint } from '../../local/endpoint';
import { LOCAL_ACCOUNT } from '../../local/registry/function-registry';
import { loopbackClientConfig } from '../support/loopback-client';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

export interface CloudWatchEndpoint {
  readonly cloudWatch: CloudWatchClient;
  /** The endpoint's URL, for other clients (the `aws` CLI). */
  readonly url: string;
  readonly metrics: MetricStore;
  readonly alarms: AlarmRegistry;
  close(): Promise<void>;
}

export async function startCloudWatchEndpoint(now: () => number): Promise<CloudWatchEndpoint> {
  const metrics = new MetricStore({ retentionMs: Number.POSITIVE_INFINITY });
  const alarms = new AlarmRegistry({ metrics, now });
  const state: CloudWatchState = { alarms, metrics, accountId: LOCAL_ACCOUNT };
  const registry = new TestRegistry();
  const endpoint = await startEndpoint({
    port: 0,
    registry,
    invoker: new TestInvoker(registry),
    jsonServices: {
      monitoring: {
        protocol: 'awsJson1_0',
        handle: (op, input) => handleCloudWatch(state, op, input),
      },
    },
    queryServices: { monitoring: cloudWatchQueryService(state) },
  });
  const cloudWatch = new CloudWatchClient(loopbackClientConfig(endpoint.url));
  return {
    cloudWatch,
    url: endpoint.url,
    metrics,
    alarms,
    close: async () => {
      cloudWatch.destroy();
      await endpoint.close();
    },
  };
}
