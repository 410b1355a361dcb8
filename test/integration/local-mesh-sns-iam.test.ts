/**
 * The local SNS under IAM, from a template: a sandbox's Publish is sns:Publish on the topic, judged with
 * its role's policies and the topic's AWS::SNS::TopicPolicy and refused as SNS refuses it
 * (AuthorizationError, 403); a Lambda subscription delivers only once the function's policy lets
 * sns.amazonaws.com invoke it from the topic, and until then the mesh's log names the missing grant.
 * GIVEN a template without the topic policy and the permission, WHEN the caller publishes, THEN it is
 * refused and nothing is delivered; GIVEN the next deploy with both, THEN it is served and delivered;
 * GIVEN a deploy whose subscription turned into an SQS one, THEN the Lambda subscription is gone.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SandboxCredentials } from '../../local/endpoint/sandbox-credentials';
import { type LocalMesh, startLocalMesh } from '../../local/mesh-local';
import { clientConfig } from '../support/example-assembly';
import { arnOf, failureOf, fn, role } from '../support/iam-template';
import { oneStackAssembly } from '../support/one-stack-assembly';

const ACCOUNT = '000000000000';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:app-notices';

function template(granted: boolean): Record<string, unknown> {
  const base = {
    CallerRole: role('caller-role'),
    OwnerRole: role('owner-role'),
    Caller: fn('app-caller', 'CallerRole'),
    Target: fn('app-target', 'OwnerRole'),
    Notices: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'app-notices' } },
    // new LambdaSubscription(target): the subscription, and (below) the permission it adds.
    TargetSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'lambda', TopicArn: { Ref: 'Notices' }, Endpoint: arnOf('Target') },
    },
  };
  if (!granted) return base;
  return {
    ...base,
    TargetInvoke: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf('Target'),
        Principal: 'sns.amazonaws.com',
        SourceArn: { Ref: 'Notices' },
      },
    },
    // topic.addToResourcePolicy(...): the caller's role may publish.
    NoticesPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'Notices' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Principal: { AWS: arnOf('CallerRole') }, Action: 'sns:Publish', Resource: TOPIC },
          ],
        },
      },
    },
  };
}

describe('IAM on the local mesh: SNS', () => {
  const toQueue = {
    ...template(true),
    TargetSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'sqs', TopicArn: { Ref: 'Notices' }, Endpoint: 'arn:aws:sqs:us-east-1:000000000000:q' },
    },
  };
  const dirs = [template(false), template(true), toQueue].map((t) => oneStackAssembly('sns-iam', t));
  let mesh: LocalMesh;
  const lines: string[] = [];
  let asCaller: SNSClient;
  let operator: SNSClient;
  const targetRuns = () => mesh.recentInvocations().filter((r) => r.functionName === 'app-target').length;

  before(async () => {
    mesh = await startLocalMesh({
      assemblies: [dirs[0]!],
      port: 0,
      quiet: true,
      asyncRetryBaseMs: 100,
      log: (l) => lines.push(l),
    });
    const spec = mesh.registry.getSpec('app-caller', '$LATEST')!;
    const keys = new SandboxCredentials().issue('app-caller', spec.role, ACCOUNT)!;
    asCaller = new SNSClient({ ...clientConfig(mesh.url), credentials: keys });
    operator = new SNSClient(clientConfig(mesh.url));
    // The caller's sandbox, started once, holds the keys its session signs with.
    const lambda = new LambdaClient(clientConfig(mesh.url));
    await lambda.send(new InvokeCommand({ FunctionName: 'app-caller' }));
    lambda.destroy();
  });
  after(async () => {
    for (const c of [asCaller, operator]) c?.destroy();
    await mesh?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("without the topic's policy: the role's Publish is refused in SNS's words, and the log names the grant", async () => {
    const err = await failureOf(asCaller.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hello' })));
    assert.equal(err.name, 'AuthorizationErrorException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(
      err.message,
      'User: arn:aws:sts::000000000000:assumed-role/caller-role/app-caller is not authorized to perform: ' +
        `SNS:Publish on resource: ${TOPIC} because no identity-based policy allows the sns:Publish action`,
    );
    assert.ok(
      lines.some((l) => /^IAM refused app-caller .*sns:Publish on arn:aws:sns:.*topic\.grantPublish\(fn\)/.test(l)),
      lines.join('\n'),
    );
  });

  it("without the function's permission: SNS delivers nothing and the log says once which grant is missing", async () => {
    await operator.send(new PublishCommand({ TopicArn: TOPIC, Message: 'one' }));
    await operator.send(new PublishCommand({ TopicArn: TOPIC, Message: 'two' }));
    const told = lines.filter((l) => l.startsWith(`SNS did not deliver ${TOPIC}`));
    assert.equal(told.length, 1, lines.join('\n'));
    assert.match(
      told[0]!,
      /Principal sns\.amazonaws\.com and SourceArn arn:aws:sns:us-east-1:000000000000:app-notices/,
    );
    assert.equal(targetRuns(), 0);
  });

  it('with both: the Publish is served and the subscribed function runs', async () => {
    await mesh.apply(dirs[1]!);
    const out = await asCaller.send(new PublishCommand({ TopicArn: TOPIC, Message: 'three' }));
    assert.ok(out.MessageId);
    const until = Date.now() + 15_000;
    while (targetRuns() === 0) {
      if (Date.now() > until) assert.fail(`app-target never ran; mesh log:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('a subscription that becomes another protocol is dropped here, with a warning', async () => {
    const subscribed = async () =>
      (await operator.send(new ListSubscriptionsByTopicCommand({ TopicArn: TOPIC }))).Subscriptions?.length;
    assert.equal(await subscribed(), 1);
    const report = await mesh.apply(dirs[2]!);
    assert.equal(await subscribed(), 0);
    assert.ok(
      report.warnings.some((w) =>
        /TargetSubscription: the local mesh delivers SNS to Lambda subscriptions only/.test(w),
      ),
      report.warnings.join('\n'),
    );
  });
});
