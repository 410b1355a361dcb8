/**
 * The shared DynamoDB codec (shared/attribute-value.ts) typed for the SDK's commands: plain JSON <->
 * AttributeValue. The SDK's AttributeValue is a tagged union the shared (import-free) type cannot name.
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue,
  marshallItem,
  marshallValue,
  unmarshallItem,
  unmarshallValue,
} from '../shared/attribute-value';

export const toAttribute = (value: unknown): SdkAttributeValue => marshallValue(value) as SdkAttributeValue;
export const toItem = (obj: Record<string, unknown>): Record<string, SdkAttributeValue> =>
  marshallItem(obj) as Record<string, SdkAttributeValue>;
export const fromAttribute = (av: SdkAttributeValue): unknown => unmarshallValue(av as AttributeValue);
export const fromItem = (item: Record<string, SdkAttributeValue>): Record<string, unknown> =>
  unmarshallItem(item as Record<string, AttributeValue>);
