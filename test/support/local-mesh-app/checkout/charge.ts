/**
 * The leaf that charges: one ledger item per completed charge, keyed on the call's idempotency key
 * (`mesh.context()`). With DEDUPE=true the charge runs under Powertools idempotency on that key, so
 * every attempt of one call, and any replay of it, charges once.
 *
 * Faults on request (event.faults), decided from the key and the attempt so a run can be repeated:
 * `error` fails before charging (a card processor that is down); `timeout` charges, then answers
 * after SLOW_MS, long after the caller's per-try timeout.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mesh } from 'lambda-mesh/runtime';

interface Charge {
  readonly amountCents: number;
  readonly faults?: { readonly timeout?: number; readonly error?: number; readonly seed?: string };
}

const LEDGER = process.env.LEDGER_TABLE!;
const SLOW_MS = Number(process.env.SLOW_MS ?? 1500);
// The local mesh serves DynamoDB at AWS_ENDPOINT_URL; in AWS it is unset and the SDK finds DynamoDB.
const clientConfig = process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {};
const ledger = new DynamoDBClient(clientConfig);

function fault(key: string, attempt: number, f: Charge['faults']): 'error' | 'timeout' | undefined {
  if (!f) return undefined;
  const h = createHash('sha256')
    .update(`${f.seed ?? ''}|${key}|${attempt}`)
    .digest();
  const u = h.readUInt32BE(0) / 2 ** 32;
  if (u < (f.error ?? 0)) return 'error';
  if (u < (f.error ?? 0) + (f.timeout ?? 0)) return 'timeout';
  return undefined;
}

async function charge(key: string, event: Charge): Promise<{ key: string; chargedCents: number }> {
  const injected = fault(key, mesh.context()?.attempt ?? 1, event.faults);
  if (injected === 'error') {
    throw Object.assign(new Error('card processor unavailable'), { name: 'CardProcessorUnavailable' });
  }
  await ledger.send(
    new PutItemCommand({
      TableName: LEDGER,
      Item: {
        pk: { S: key },
        sk: { S: randomUUID() },
        amountCents: { N: String(event.amountCents) },
        service: { S: process.env.MESH_SERVICE ?? '?' },
      },
    }),
  );
  if (injected === 'timeout') await new Promise((r) => setTimeout(r, SLOW_MS));
  return { key, chargedCents: event.amountCents };
}

// The README's pattern: deduplicate on the mesh's idempotency key (argument 0), not on the payload.
const config = new IdempotencyConfig({});
const chargeOnce = makeIdempotent(charge, {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: process.env.IDEMPOTENCY_TABLE!, clientConfig }),
  config,
  dataIndexArgument: 0,
});

export async function handler(event: Charge, context: { getRemainingTimeInMillis(): number }): Promise<unknown> {
  const key = mesh.context()?.idempotencyKey;
  if (!key) throw new Error('no idempotency key: call this function through the mesh');
  if (process.env.DEDUPE !== 'true') return charge(key, event);
  // An in-progress record expires with this invocation, so a crashed attempt does not block the key.
  config.registerLambdaContext(context as never);
  return chargeOnce(key, event);
}
