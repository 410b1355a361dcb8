/**
 * The local mesh's asynchronous invocation settings (AWS::Lambda::EventInvokeConfig) and where their
 * records go: a queue of the local SQS, or a function (an Event invoke of the record). Lambda waits about
 * 1 then 2 minutes between retries; the local mesh runs the event queue's clock faster, so that the first
 * wait is `retryBaseMs`, and every other duration of the queue (the second wait, a throttled event's
 * waits, the maximum event age) shrinks in proportion: a demo and a test see the whole story in seconds.
 */
import type { AsyncInvokeHooks, AsyncInvokeSettings, DeadLetterAttribute } from '../endpoint/lambda-context';
import type { QueueStore } from './queue-store';

/** Lambda's wait before the first retry of a failed event: the unit `retryBaseMs` stands for. */
const LAMBDA_FIRST_RETRY_MS = 60_000;

export class AsyncDestinations implements AsyncInvokeHooks {
  private readonly byFunction = new Map<string, AsyncInvokeSettings>();

  constructor(
    private readonly deps: {
      readonly queues: QueueStore;
      /** An Event invoke of a function ARN with the record as payload. */
      readonly invokeAsync: (functionArn: string, payload: Buffer) => Promise<void>;
      /** @default 1000 */
      readonly retryBaseMs?: number;
    },
  ) {}

  /** Settings of `functionName` at `qualifier` (`$LATEST` when none). */
  put(functionName: string, qualifier: string | undefined, settings: AsyncInvokeSettings): void {
    this.byFunction.set(`${functionName}:${qualifier ?? '$LATEST'}`, settings);
  }

  list(functionName: string): { qualifier: string | undefined; settings: AsyncInvokeSettings }[] {
    return [...this.byFunction.entries()]
      .filter(([key]) => key.startsWith(`${functionName}:`))
      .map(([key, settings]) => {
        const qualifier = key.slice(functionName.length + 1);
        return { qualifier: qualifier === '$LATEST' ? undefined : qualifier, settings };
      });
  }

  delete(functionName: string, qualifier: string | undefined): void {
    this.byFunction.delete(`${functionName}:${qualifier ?? '$LATEST'}`);
  }

  settings(functionName: string, qualifier: string | undefined): AsyncInvokeSettings | undefined {
    return this.byFunction.get(`${functionName}:${qualifier ?? '$LATEST'}`);
  }

  localMs(lambdaMs: number): number {
    return (lambdaMs * (this.deps.retryBaseMs ?? 1000)) / LAMBDA_FIRST_RETRY_MS;
  }

  async deadLetter(
    targetArn: string,
    payload: string,
    attributes: Readonly<Record<string, DeadLetterAttribute>>,
  ): Promise<void> {
    const q = this.deps.queues.byArn(targetArn);
    if (!q)
      throw new Error(
        `dead-letter queue ${targetArn} does not exist (the local mesh takes a queue as a dead-letter target, not a topic)`,
      );
    q.send(payload, { attributes });
  }

  async deliver(destinationArn: string, record: object): Promise<void> {
    const body = JSON.stringify(record);
    if (destinationArn.startsWith('arn:aws:sqs:')) {
      const q = this.deps.queues.byArn(destinationArn);
      if (!q) throw new Error(`destination queue ${destinationArn} does not exist`);
      q.send(body);
      return;
    }
    if (destinationArn.startsWith('arn:aws:lambda:')) return this.deps.invokeAsync(destinationArn, Buffer.from(body));
    throw new Error(`the local mesh delivers records to SQS queues and functions, not to ${destinationArn}`);
  }
}
