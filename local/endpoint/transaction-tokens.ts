/**
 * TransactWriteItems' ClientRequestToken ("TransactWriteItems", Amazon DynamoDB API Reference): a
 * transaction that succeeded under a token is not applied again by a request with the same token
 * within 10 minutes of its completion; the same request is answered as the first was, one that
 * changes any other parameter is refused with IdempotentParameterMismatchException. Two requests are
 * the same when their parameters are, whatever the order of the keys in their JSON (recorded AWS
 * responses: LocalStack's test_dynamodb_idempotent_writing puts one item twice, its attributes in
 * another order, and both answer 200).
 *
 * Only a transaction that succeeded is remembered: one that was cancelled or refused changed nothing,
 * and the AWS SDK sends its retries under the token of the first attempt, so a retry runs again.
 */
import { createHash } from 'node:crypto';
import type { DynamoReply } from './dynamo-extensions';
import { dynamoError } from './dynamo-extensions';

/** How long a completed transaction's token holds (the API reference's 10-minute idempotency window). */
export const TOKEN_WINDOW_MS = 10 * 60_000;

/**
 * Tokens remembered at most. The AWS SDK gives every TransactWriteItems a token of its own, so a
 * busy client would otherwise grow the store for 10 minutes at a time; past the cap the oldest is
 * forgotten first (a replay of it would then run again).
 */
export const TOKEN_CAP = 100_000;

/** The token's bounds in DynamoDB's model (ClientRequestToken: 1 to 36 characters). */
const TOKEN_MAX_LENGTH = 36;

interface Remembered {
  readonly digest: string;
  readonly reply: DynamoReply;
  readonly expiresAt: number;
}

/** What to do with a transaction: answer at once (a replay, a refusal), or run it and `remember` its reply. */
export type TokenDecision =
  | { readonly answer: DynamoReply }
  | { readonly run: true; remember(reply: DynamoReply): void };

export class TransactionTokens {
  /** Insertion order is completion order, so the first entries are the first to expire. */
  private readonly byToken = new Map<string, Remembered>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly cap: number = TOKEN_CAP,
  ) {}

  /** Decides one TransactWriteItems request (its parsed body) before it runs. */
  decide(body: Record<string, unknown>): TokenDecision {
    const token = body.ClientRequestToken;
    if (token === undefined) return { run: true, remember() {} };
    const invalid = invalidToken(token);
    if (invalid) return { answer: invalid };
    this.expire();
    const key = String(token);
    const digest = digestOf(body);
    const seen = this.byToken.get(key);
    if (seen) return { answer: seen.digest === digest ? seen.reply : MISMATCH };
    return {
      run: true,
      remember: (reply) => {
        if (reply.status >= 400) return;
        this.byToken.delete(key);
        this.byToken.set(key, { digest, reply, expiresAt: this.now() + TOKEN_WINDOW_MS });
        while (this.byToken.size > this.cap) this.byToken.delete(this.byToken.keys().next().value as string);
      },
    };
  }

  /** How many tokens are held (tests). */
  get size(): number {
    return this.byToken.size;
  }

  private expire(): void {
    const now = this.now();
    for (const [token, entry] of this.byToken) {
      if (entry.expiresAt > now) break;
      this.byToken.delete(token);
    }
  }
}

/**
 * Not recorded: the message is the API reference's description of the error. The model names its
 * message member `Message` (error-message-member.ts).
 */
const MISMATCH = dynamoError(
  'IdempotentParameterMismatchException',
  'DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.',
);

/** A token off the model's bounds, in the request framework's words; undefined when it is a good one. */
function invalidToken(token: unknown): DynamoReply | undefined {
  if (typeof token !== 'string') return undefined; // the framework's type check words it (dynalite's turn)
  const at = `Value '${token}' at 'clientRequestToken' failed to satisfy constraint:`;
  if (token.length === 0) {
    return dynamoError(
      'ValidationException',
      `1 validation error detected: ${at} Member must have length greater than or equal to 1`,
    );
  }
  if (token.length > TOKEN_MAX_LENGTH) {
    return dynamoError(
      'ValidationException',
      `1 validation error detected: ${at} Member must have length less than or equal to ${TOKEN_MAX_LENGTH}`,
    );
  }
  return undefined;
}

/** The request's parameters but the token, in one canonical form (keys sorted at every level). */
function digestOf(body: Record<string, unknown>): string {
  const { ClientRequestToken: _token, ...parameters } = body;
  return createHash('sha256').update(canonical(parameters)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
