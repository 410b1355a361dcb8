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
/**
 * An item as plain JSON. The SDK hands a top-level attribute named `__proto__` over as a key without a
 * value: it reads as null, so the item still shows, and is refused for that unknown field, rather than
 * the codec throwing on it and ending the read of the whole table.
 */
export const fromItem = (item: Record<string, SdkAttributeValue>): Record<string, unknown> =>
  unmarshallItem(Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v ?? { NULL: true }])));
