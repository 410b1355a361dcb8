/** The local AWS endpoint: start it, seed its secrets and policy table. */

export { marshallItem, unmarshallItem } from '../../shared/attribute-value';
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
export { createPolicyTable, seedItems } from './dynamodb';
export { AwsError } from './errors';
export { RolePolicies } from './iam';
export { CURRENT, PENDING, PREVIOUS, SecretStore } from './secret-store';
export { type Endpoint, type EndpointOptions, startEndpoint } from './server';
