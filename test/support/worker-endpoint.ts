/**
 * The local AWS endpoint in front of real function workers (LocalInvoker), and the AWS SDK's Lambda
 * client pointed at it: what tests of Invoke's answers run against.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import type { FunctionRegistry } from '../../local/registry/function-registry';
import { LocalInvoker } from '../../local/runtime/invoker';
import { clientConfig } from './example-assembly';

export interface WorkerEndpoint {
  readonly endpoint: Endpoint;
  readonly invoker: LocalInvoker;
  readonly lambda: LambdaClient;
  /** Stops the client, the workers and the endpoint, and removes `dir`. */
  stop(): Promise<void>;
}

/** Serves `registry`'s functions on 127.0.0.1, their workers' files under `dir` (removed by `stop`). */
export async function startWorkerEndpoint(registry: FunctionRegistry, dir: string): Promise<WorkerEndpoint> {
  const invoker = new LocalInvoker({ registry, workDir: join(dir, 'opt') });
  const endpoint = await startEndpoint({ port: 0, registry, invoker });
  invoker.setEndpointUrl(endpoint.url);
  const lambda = new LambdaClient(clientConfig(endpoint.url));
  return {
    endpoint,
    invoker,
    lambda,
    async stop() {
      lambda.destroy();
      await invoker.stop();
      await endpoint.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
