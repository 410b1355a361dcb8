/**
 * The local mesh's EventBridge, wired to the rest of it: targets are invoked asynchronously over the
 * wire (Lambda's own checks and event queue apply), each after the function's resource-based policy
 * was judged for the rule (rule-permission.ts), and undelivered events go to local SQS queues.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { parseFunctionName } from '../endpoint/function-name';
import { LATEST } from '../registry/function-registry';
import type { LocalRegions } from '../registry/regions';
import type { QueueStore } from '../sqs/queue-store';
import { EventBuses } from './event-buses';
import { ruleInvokeRefusal } from './rule-permission';

export function localEventBuses(deps: {
  readonly regions: LocalRegions;
  readonly queues: QueueStore;
  /** The client the mesh invokes with, once the endpoint runs. */
  readonly lambda: () => LambdaClient;
  readonly log: (line: string) => void;
}): EventBuses {
  const accountId = deps.regions.registry().accountId;
  return new EventBuses({
    accountId,
    log: deps.log,
    invokeAsync: async (functionArn, payload) => {
      const invoke = new InvokeCommand({ FunctionName: functionArn, Payload: payload, InvocationType: 'Event' });
      await deps.lambda().send(invoke);
    },
    invokeRefusal: (functionArn, ruleArn) => {
      const region = functionArn.split(':')[3] ?? '';
      const ref = parseFunctionName(functionArn, undefined, 'Invoke', { region, accountId });
      const statements = deps.regions.registry(region).policyStatements(ref.name, ref.qualifier ?? LATEST);
      return ruleInvokeRefusal(statements, { functionArn, ruleArn, accountId });
    },
    deadLetter: async (queueArn, body) => {
      const queue = deps.queues.byArn(queueArn);
      if (!queue) throw new Error(`dead-letter queue ${queueArn} does not exist`);
      queue.send(body);
    },
  });
}
