/** The local AWS endpoint: start it, seed its secrets and policy table. */

export type {
  AliasConfig,
  AliasInput,
  EndpointInvoker,
  EndpointRegistry,
  FunctionConfig,
  InvocationType,
  InvokeRequest,
  InvokeResult,
} from './backend';
export { createPolicyTable, marshallItem, seedItems, unmarshallItem } from './dynamodb';
export { AwsError } from './errors';
export { CURRENT, PENDING, PREVIOUS, SecretStore } from './secret-store';
export { type Endpoint, type EndpointOptions, startEndpoint } from './server';
