/**
 * The Lambda Invoke transport: one synchronous Invoke with a qualifier and the mesh ClientContext.
 * On the wire (lambda-invoke-wire.ts: a signed HTTPS request, no SDK to load on a cold start) wherever
 * aws/aws-endpoint.ts says the runtime can reach Lambda itself; through @aws-sdk/client-lambda
 * (lambda-invoke-sdk.ts) elsewhere, and when a test hands in a client. Chosen on the first call.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export interface LambdaTransportOptions {
  /** An SDK client to send through (tests); default: the wire, or an SDK client where the wire does not go. */
  readonly client?: LambdaClient;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class LambdaInvokeTransport implements InvokeTransport {
  private chosen: { readonly path: 'wire' | 'sdk'; readonly transport: InvokeTransport } | undefined;

  constructor(private readonly options: LambdaTransportOptions = {}) {}

  invoke(req: InvokeRequest): Promise<InvokeResponse> {
    this.chosen ??= this.choose();
    return this.chosen.transport.invoke(req);
  }

  /** Which path the first call chose (tests, the bench). */
  get path(): 'wire' | 'sdk' | undefined {
    return this.chosen?.path;
  }

  private choose(): NonNullable<LambdaInvokeTransport['chosen']> {
    const env = this.options.env ?? process.env;
    const { awsRoute, LAMBDA } = require('../aws') as typeof import('../aws');
    const route = this.options.client ? undefined : awsRoute(LAMBDA, env);
    if (route?.wire) {
      const { LambdaWireTransport } = require('./lambda-invoke-wire') as typeof import('./lambda-invoke-wire');
      return { path: 'wire', transport: new LambdaWireTransport(route.url, route.region, env) };
    }
    const { sdkInvokeTransport } = require('./lambda-invoke-sdk') as typeof import('./lambda-invoke-sdk');
    return { path: 'sdk', transport: sdkInvokeTransport(this.options.client, env) };
  }
}
