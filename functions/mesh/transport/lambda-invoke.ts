/**
 * The Lambda Invoke transport: one synchronous Invoke with a qualifier and the mesh ClientContext.
 * On the wire (lambda-invoke-wire.ts: a signed HTTPS request, no SDK to load on a cold start) wherever
 * aws/wire-or-sdk.ts says the runtime can reach Lambda itself; through @aws-sdk/client-lambda
 * (lambda-invoke-sdk.ts) elsewhere, and when a test hands in a client. Chosen on the first call.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SdkClientConfig } from '../aws';
import type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export type { InvokeRequest, InvokeResponse, InvokeTransport } from './invoke-transport';

export interface LambdaTransportOptions {
  /** An SDK client to send through (tests); default: the wire, or an SDK client where the wire does not go. */
  readonly client?: LambdaClient;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface Chosen {
  readonly path: 'wire' | 'sdk';
  readonly transport: InvokeTransport;
}

/** `arn:<partition>:lambda:<region>:...`: the region Lambda must be called in for that function. */
const ARN_REGION = /^arn:[^:]+:lambda:([^:]+):/;

export class LambdaInvokeTransport implements InvokeTransport {
  private chosen: Chosen | undefined;
  /** Transports of the other regions whose function ARNs were called (a fallback in another region). */
  private readonly elsewhere = new Map<string, Chosen>();

  constructor(private readonly options: LambdaTransportOptions = {}) {}

  invoke(req: InvokeRequest): Promise<InvokeResponse> {
    // Lambda answers an ARN of another region with 404 "not reachable in this region": call it there.
    const region = ARN_REGION.exec(req.functionName)?.[1];
    const env = this.options.env ?? process.env;
    if (region && region !== (env.AWS_REGION || env.AWS_DEFAULT_REGION) && !this.options.client) {
      let t = this.elsewhere.get(region);
      if (!t) {
        t = this.choose({ ...env, AWS_REGION: region, AWS_DEFAULT_REGION: region });
        this.elsewhere.set(region, t);
      }
      return t.transport.invoke(req);
    }
    this.chosen ??= this.choose(env);
    return this.chosen.transport.invoke(req);
  }

  /** Which path the first call chose (tests, the bench). */
  get path(): 'wire' | 'sdk' | undefined {
    return this.chosen?.path;
  }

  private choose(env: Readonly<Record<string, string | undefined>>): Chosen {
    const { client } = this.options;
    const sdk = (config?: SdkClientConfig): Chosen => {
      const { sdkInvokeTransport } = require('./lambda-invoke-sdk') as typeof import('./lambda-invoke-sdk');
      return { path: 'sdk', transport: sdkInvokeTransport(client, config) };
    };
    if (client) return sdk();
    const { LAMBDA, wireOrSdk } = require('../aws') as typeof import('../aws');
    return wireOrSdk<Chosen>(LAMBDA, env, {
      purpose: 'invoke other functions',
      wire: (wire) => {
        const { LambdaWireTransport } = require('./lambda-invoke-wire') as typeof import('./lambda-invoke-wire');
        return { path: 'wire', transport: new LambdaWireTransport(wire) };
      },
      sdk,
    });
  }
}
