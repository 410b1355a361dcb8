/** The local AWS endpoint (E1): start it, seed its secrets and policy table. */
export { startEndpoint, type Endpoint, type EndpointOptions } from './server';
export { SecretStore, CURRENT, PREVIOUS, PENDING } from './secret-store';
export { AwsError } from './errors';
export { createPolicyTable, seedItems, marshallItem, unmarshallItem } from './dynamodb';
export type {
  EndpointRegistry,
  EndpointInvoker,
  FunctionConfig,
  AliasConfig,
  AliasInput,
  InvokeRequest,
  InvokeResult,
  InvocationType,
} from './backend';
