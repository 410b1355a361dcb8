/**
 * The lease of a rate-limit slice: one conditional UpdateItem on the bucket's item in the target's
 * rate-limit partition (`ratelimit#<target>`, sort key `bucket#` and the scope of the limit: `traffic`
 * or `allow#<source>`, so no lease reaches the policy version's bumper), which holds the bucket's `tat`
 * (rate-limit.ts). The condition makes the grant exact across sandboxes: a write that raced another
 * fails, and the item it returns (DynamoDB's
 * ReturnValuesOnConditionCheckFailure) re-plans the lease once. Signed on the wire like the policy
 * Query (no SDK client on the hot path); the module loads on the first call to a limited target.
 * Needs dynamodb:UpdateItem on the partition, which `allowCallsTo({ rateLimit })` grants.
 */
import { rateLimitPartition, SORT_KEY, TABLE } from '../../../shared/names';
import { type AwsEnv, awsJsonCall, DYNAMODB, wireOrSdk } from '../aws';
import { latestLeasedTat, planLease, RESERVE_MS, sliceStart } from './rate-limit';
import type { LeaseRequest, LeaseResult, RateLimitLeaser } from './rate-limit-lease';

type UpdateItem = (input: Record<string, unknown>) => Promise<{ Attributes?: Record<string, { N?: string }> }>;

export class TableLeaser implements RateLimitLeaser {
  writes = 0;
  private readonly update: UpdateItem;
  /** The `tat` of each bucket as this sandbox last saw it: it only moves on, so it never overestimates. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly tableName: string,
    env: AwsEnv,
    update?: UpdateItem,
  ) {
    this.update = update ?? wireUpdate(env);
  }

  async lease(req: LeaseRequest): Promise<LeaseResult> {
    const key = `${req.target}\0${req.scope}`;
    // The first write plans from the tat last seen (other sandboxes only move it on: an empty bucket
    // known here is empty in the table, and no write is sent); a refused write returns the item, and
    // the second one plans from what it holds.
    for (let attempt = 1; ; attempt++) {
      const plan = planLease(this.known.get(key), req.now, req.limits, req.want, req.minGrant, RESERVE_MS);
      if ('retryAt' in plan) return { granted: 0, retryAt: plan.retryAt };
      try {
        this.writes++;
        const out = await this.update(this.input(req, plan.tat, plan.grant, plan.fresh));
        const stored = Number(out.Attributes?.tat?.N);
        const tat = Number.isFinite(stored) ? stored : plan.tat;
        this.known.set(key, tat);
        // Another sandbox may have moved tat since it was last seen here: the slice starts where the table says.
        return { granted: plan.grant, startsAt: sliceStart(tat, req.limits, req.now) };
      } catch (err) {
        const e = err as { name?: string; Item?: Record<string, { N?: string }> };
        if (e?.name !== 'ConditionalCheckFailedException') throw err;
        const tat = Number(e.Item?.tat?.N);
        if (Number.isFinite(tat)) this.known.set(key, tat);
        else this.known.delete(key);
        if (attempt >= 2) {
          const again = planLease(this.known.get(key), req.now, req.limits, req.want, req.minGrant, RESERVE_MS);
          return { granted: 0, retryAt: 'retryAt' in again ? again.retryAt : req.now };
        }
      }
    }
  }

  private input(req: LeaseRequest, tat: number, grant: number, fresh: boolean): Record<string, unknown> {
    const interval = 1000 / req.limits.perSecond;
    const names = { '#tat': 'tat', '#ttl': TABLE.ttlAttribute };
    const key = {
      [TABLE.partitionKey]: { S: rateLimitPartition(req.target) },
      [TABLE.sortKey]: { S: SORT_KEY.rateLimitBucket(req.scope) },
    };
    // The item goes a little after the bucket is full again (DynamoDB TTL, epoch seconds).
    const ttl = { N: String(Math.ceil(tat / 1000) + 60) };
    const common = {
      TableName: this.tableName,
      Key: key,
      ExpressionAttributeNames: names,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ReturnValues: 'UPDATED_NEW',
    };
    if (fresh) {
      // A full bucket: tat starts again from now. A tat no lease could have left is replaced the same way.
      return {
        ...common,
        UpdateExpression: 'SET #tat = :tat, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :now OR #tat > :forged',
        ExpressionAttributeValues: {
          ':tat': { N: String(tat) },
          ':now': { N: String(req.now) },
          ':forged': { N: String(latestLeasedTat(req.now, req.limits)) },
          ':ttl': ttl,
        },
      };
    }
    // tat moves on by the slice while the slice starts within the reservation horizon.
    const latest = req.now + RESERVE_MS + req.limits.burst * interval - grant * interval;
    return {
      ...common,
      UpdateExpression: 'SET #tat = #tat + :inc, #ttl = :ttl',
      ConditionExpression: '#tat BETWEEN :now AND :latest',
      ExpressionAttributeValues: {
        ':inc': { N: String(grant * interval) },
        ':now': { N: String(req.now) },
        ':latest': { N: String(latest) },
        ':ttl': ttl,
      },
    };
  }
}

/**
 * UpdateItem signed on the wire, or through the SDK where the wire does not go (aws/wire-or-sdk.ts).
 * One attempt either way: a lost write is not repeated (a repeat could lease the slice twice).
 */
function wireUpdate(env: AwsEnv): UpdateItem {
  return wireOrSdk(DYNAMODB, env, {
    purpose: 'lease a rate-limit slice from the policy table',
    wire: (client) => (input) =>
      awsJsonCall(client, 'DynamoDB_20120810.UpdateItem', input, { version: '1.0', attempts: 1 }),
    sdk: (config) => {
      let client: import('@aws-sdk/client-dynamodb').DynamoDBClient | undefined;
      return async (input) => {
        const sdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
        client ??= new sdk.DynamoDBClient({ ...config, maxAttempts: 1 });
        return (await client.send(new sdk.UpdateItemCommand(input as never))) as never;
      };
    },
  });
}
