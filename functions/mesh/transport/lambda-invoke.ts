/**
 * The Lambda Invoke transport: one synchronous Invoke with a qualifier and the mesh ClientContext,
 * through @aws-sdk/client-lambda, required on the first call (not at init: the SDK costs tens of ms).
 * The SDK's own retries are off (maxAttempts 1): the mesh retries with its budget and backoff.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';

export interface InvokeRequest {
  readonly functionName: string;
  readonly qualifier: string;
  readonly payload: Uint8Array;
  /** Base64 ClientContext. */
  readonly clientContext: string;
  /** Sent as X-Amzn-Trace-Id when set. */
  readonly traceHeader?: string;
  readonly signal: AbortSignal;
}

export interface InvokeResponse {
  readonly statusCode: number;
  readonly functionError?: string;
  readonly executedVersion?: string;
  readonly payload: Uint8Array;
}

/** What the pipeline needs of a transport (tests and benches may give their own). */
export interface InvokeTransport {
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
}

export interface LambdaTransportOptions {
  /** A ready client (tests); default: created on first call. */
  readonly client?: LambdaClient;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class LambdaInvokeTransport implements InvokeTransport {
  private client: LambdaClient | undefined;
  private InvokeCommand: typeof import('@aws-sdk/client-lambda').InvokeCommand | undefined;

  constructor(private readonly options: LambdaTransportOptions = {}) {
    this.client = options.client;
  }

  private init(): void {
    const sdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    this.InvokeCommand = sdk.InvokeCommand;
    if (!this.client) {
      const env = this.options.env ?? process.env;
      // Passed explicitly: some SDK releases ignore AWS_ENDPOINT_URL_*.
      const endpoint = env.AWS_ENDPOINT_URL_LAMBDA || env.AWS_ENDPOINT_URL || undefined;
      this.client = new sdk.LambdaClient({ maxAttempts: 1, ...(endpoint ? { endpoint } : {}) });
    }
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    if (!this.InvokeCommand) this.init();
    const cmd = new this.InvokeCommand!({
      FunctionName: req.functionName,
      Qualifier: req.qualifier,
      Payload: req.payload,
      ClientContext: req.clientContext,
      InvocationType: 'RequestResponse',
    });
    if (req.traceHeader) {
      const header = req.traceHeader;
      // Our subsegment is the parent of the callee's work; the SDK's recursion-detection middleware
      // only fills the header from _X_AMZN_TRACE_ID when it is absent.
      cmd.middlewareStack.add(
        (next) => (args) => {
          const r = args.request as { headers?: Record<string, string> };
          if (r.headers) r.headers['X-Amzn-Trace-Id'] = header;
          return next(args);
        },
        { step: 'build', name: 'meshTraceHeader' },
      );
    }
    const out = await this.client!.send(cmd, { abortSignal: req.signal });
    return {
      statusCode: out.StatusCode ?? 200,
      functionError: out.FunctionError,
      executedVersion: out.ExecutedVersion,
      payload: out.Payload ?? new Uint8Array(),
    };
  }
}
