/**
 * Lambda Invoke through @aws-sdk/client-lambda: for a client a test hands in, and where the wire path
 * does not go (aws/aws-endpoint.ts: FIPS, dual-stack, container credentials, other partitions). The
 * SDK is required on the first call, and its own retries are off (maxAttempts 1): the mesh retries
 * with its budget and backoff.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { withTraceHeader } from '../../../shared/sdk-trace-header';
import type { SdkClientConfig } from '../aws';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

/** Through `client` (a test's), else a client made with `config` (aws/wire-or-sdk.ts). */
export function sdkInvokeTransport(client: LambdaClient | undefined, config?: SdkClientConfig): InvokeTransport {
  const sdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const lambda = client ?? new sdk.LambdaClient({ ...config, maxAttempts: 1 });
  return {
    async invoke(req: InvokeRequest): Promise<InvokeResponse> {
      // Our subsegment is the parent of the callee's work.
      const cmd = withTraceHeader(
        new sdk.InvokeCommand({
          FunctionName: req.functionName,
          Qualifier: req.qualifier,
          Payload: req.payload,
          ClientContext: req.clientContext || undefined,
          InvocationType: req.invocationType ?? 'RequestResponse',
        }),
        req.traceHeader,
      );
      const out = await lambda.send(cmd, { abortSignal: req.signal });
      return {
        statusCode: out.StatusCode ?? 200,
        functionError: out.FunctionError,
        executedVersion: out.ExecutedVersion,
        payload: out.Payload ?? new Uint8Array(),
      };
    },
  };
}
