/**
 * Lambda Invoke on the wire (AWS Lambda API Reference, "Invoke"): one signed
 * `POST /2015-03-31/functions/<name>/invocations?Qualifier=<q>` with the payload as the body, the
 * ClientContext in `X-Amz-Client-Context`, over a kept-alive connection. A 200 carries the function's
 * result, or its error with `X-Amz-Function-Error`; any other status is thrown as the error the AWS
 * SDK would throw (aws/aws-error.ts: `TooManyRequestsException` with its `Reason`, ...), so the
 * pipeline classifies both paths alike.
 */
import { type AwsWireClient, awsError, uriEscape } from '../aws';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export class LambdaWireTransport implements InvokeTransport {
  constructor(private readonly client: AwsWireClient) {}

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'x-amz-invocation-type': req.invocationType ?? 'RequestResponse',
    };
    if (req.clientContext) headers['x-amz-client-context'] = req.clientContext;
    // Not signed (the SDK leaves it out too): X-Ray may rewrite it on the way.
    if (req.traceHeader) headers['x-amzn-trace-id'] = req.traceHeader;
    const res = await this.client.send({
      method: 'POST',
      path: `/2015-03-31/functions/${uriEscape(req.functionName)}/invocations`,
      query: req.qualifier ? { Qualifier: req.qualifier } : undefined,
      headers,
      body: req.payload,
      signal: req.signal,
    });
    if (res.status >= 300) {
      const err = awsError('restJson1', res.status, res.headers, res.body.toString('utf8'));
      const retryAfter = res.headers['retry-after'];
      if (typeof retryAfter === 'string') Object.assign(err, { retryAfterSeconds: retryAfter });
      throw err;
    }
    const header = (name: string) => {
      const v = res.headers[name];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    return {
      statusCode: res.status,
      functionError: header('x-amz-function-error'),
      executedVersion: header('x-amz-executed-version'),
      payload: res.body,
    };
  }

  /** Closes kept-alive connections (tests, benches). */
  close(): void {
    this.client.close();
  }
}
