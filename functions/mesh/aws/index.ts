/**
 * Speaking AWS's wire on the hot path (docs/aws-wire.md): the SigV4 signer, where each service is
 * reached, the function's credentials, one keep-alive client per endpoint, error responses as the
 * AWS SDK's errors, awsJson calls, and the choice of the wire or an SDK client (wire-or-sdk.ts). Its
 * own file in the layer, loaded by the first request that reads the policy table, an identity secret
 * or invokes a function.
 */
export { envCredentials } from './aws-credentials';
export {
  type AwsEnv,
  type AwsRoute,
  type AwsService,
  awsRoute,
  configuredEndpoint,
  DYNAMODB,
  EVENTBRIDGE,
  LAMBDA,
  regionOf,
  SECRETS_MANAGER,
  SNS,
  SQS,
} from './aws-endpoint';
export { type AwsErrorFields, awsError } from './aws-error';
export { awsJsonCall, isRetryableRead } from './aws-json-call';
export { AwsWireClient, type AwsWireRequest, type AwsWireResponse, IDLE_RESET_MS } from './aws-wire-client';
export { type AwsCredentials, canonicalQuery, signRequest, uriEscape } from './sigv4';
export { type AwsPaths, type SdkClientConfig, wireOrSdk } from './wire-or-sdk';
