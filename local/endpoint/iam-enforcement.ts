/**
 * The local mesh holds each sandbox to the IAM its template grants: a request signed with a sandbox's
 * key (sandbox-credentials.ts) for an action the endpoint evaluates (iam-request.ts) is judged against
 * its role's identity policies and the resource's own policies (iam-evaluation.ts, iam-principal.ts), and refused as AWS refuses it: AccessDeniedException
 * in its service's protocol, naming the caller, the action and the resource. The mesh's log gets one
 * line naming the function, the action, the resource and the grant that would allow it. A request the
 * policies cannot decide passes, with one warning naming what was not judged.
 */

import { AwsError, asQueryError, queryCompatibleError, type WireProtocol } from './errors';
import type { RolePolicies } from './iam';
import type { IamDecision, IamRequest } from './iam-evaluation';
import { evaluatePolicies } from './iam-evaluation';
import { statementsFor } from './iam-principal';
import { iamRequestOf, putEventsRequests, type RequestFacts, type RequestLookups } from './iam-request';
import type { SandboxCredentials, SandboxPrincipal } from './sandbox-credentials';

/** Why a request is refused: nothing allows it, or a Deny of the role's policies or of the resource's. */
type Denial = 'implicit' | 'identity' | 'resource';

/** A refusal, ready to write: the error and the protocol it goes out in. */
export interface IamRefusal {
  readonly error: AwsError;
  readonly protocol: WireProtocol;
  /** The signing name whose model the message member follows (error-message-member.ts). */
  readonly service: string;
}

export class IamEnforcement {
  private readonly warned = new Set<string>();
  private readonly told = new Set<string>();

  constructor(
    private readonly sandboxes: SandboxCredentials,
    private readonly policies: RolePolicies,
    private readonly lookups: RequestLookups,
    private readonly log: (line: string) => void,
  ) {}

  /** undefined: the request goes on (no sandbox's, not evaluated, allowed or undecided). */
  async check(keyId: string | undefined, facts: RequestFacts): Promise<IamRefusal | undefined> {
    const principal = this.sandboxes.principalOf(keyId);
    if (!principal) return undefined;
    const asked = putEventsRequests(facts) ?? [await iamRequestOf(facts, this.lookups)];
    for (const request of asked) {
      const refused = request && this.judge(principal, request, facts);
      if (refused) return refused;
    }
    return undefined;
  }

  /** The refusal of one request, if its policies refuse it. */
  private judge(principal: SandboxPrincipal, asked: IamRequest, facts: RequestFacts): IamRefusal | undefined {
    const context: IamRequest['context'] = { ...asked.context, 'aws:principalarn': [principal.roleArn] };
    const request: IamRequest = { ...asked, context };
    const decision = this.decide(principal, request);
    if (decision.effect === 'allow') return undefined;
    if (decision.effect === 'undecided') {
      this.warnOnce(principal, request, decision.reason);
      return undefined;
    }
    const denial: Denial =
      decision.effect !== 'explicit-deny' ? 'implicit' : decision.byResource ? 'resource' : 'identity';
    this.tellOnce(refusalLine(principal, request, denial));
    const { decision: d } = facts;
    const refused = refusal(d.service === 'other' ? d.name : d.service, principal, request, denial);
    // SQS answers in the protocol it was asked in: the query protocol's XML, with its code.
    if (d.service === 'other' && d.name === 'sqs' && d.protocol === 'query') {
      return { ...refused, error: asQueryError(refused.error), protocol: 'awsQuery' };
    }
    return refused;
  }

  /** Each refusal once: the demo's undeclared edge is refused on every tenth request, and said once. */
  private tellOnce(line: string): void {
    if (this.told.has(line)) return;
    this.told.add(line);
    this.log(line);
  }

  /**
   * The role's policies and the resource's, as one: within an account either's Allow allows and
   * either's Deny wins ("Policy evaluation logic", IAM User Guide). `byResource`: the Deny is the resource's.
   */
  private decide(principal: SandboxPrincipal, request: IamRequest): IamDecision & { byResource?: boolean } {
    const { documents, unknownManaged } = this.policies.identityPolicies(principal.roleName);
    const caller = { accountId: principal.accountId, arns: [principal.roleArn, principal.arn] };
    const resource = statementsFor(this.resourcePolicies(request.resource), caller);
    const decision = evaluatePolicies([...documents, resource], request);
    if (decision.effect === 'explicit-deny')
      return { ...decision, byResource: evaluatePolicies(documents, request).effect !== 'explicit-deny' };
    // What a managed policy not carried here grants is not known: only an explicit deny or an allow decides.
    if (decision.effect === 'implicit-deny' && unknownManaged.length > 0)
      return { effect: 'undecided', reason: `the managed policy ${unknownManaged.join(', ')}` };
    return decision;
  }

  /**
   * The policies guarding a resource: a function's is the one Lambda keeps for the ARN invoked, which
   * the templates' permissions and AddPermission both write; the others' are the templates'.
   */
  private resourcePolicies(arn: string): unknown[] {
    if (arn.split(':')[2] === 'lambda') return [{ Statement: this.lookups.functionPolicy(arn) }];
    return this.policies.resources.of(arn);
  }

  private warnOnce(principal: SandboxPrincipal, request: IamRequest, reason: string): void {
    const key = `${principal.roleName}\0${request.action}\0${reason}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(
      `warning: IAM not evaluated for ${principal.functionName} (role ${principal.roleName}): ${request.action} on ` +
        `${request.resource} turns on ${reason}, which the local mesh does not judge; the call was let through`,
    );
  }
}

/** The log line of a refusal: the function, its role, the action, the resource and the fix. */
function refusalLine(principal: SandboxPrincipal, request: IamRequest, denial: Denial): string {
  const partition = request.context['dynamodb:leadingkeys'];
  return (
    `IAM refused ${principal.functionName} (role ${principal.roleName}): ${request.action} on ${request.resource}` +
    `${partition ? ` (partition ${partition.join(', ')})` : ''}${denial === 'implicit' ? '' : ', denied explicitly'}; ` +
    (undeclaredEdge(principal, request) ?? fixFor(request.action, denial))
  );
}

/**
 * A mesh function reading another service's partition of its mesh's policy table: its mesh reads a
 * target's policy before a call, and its role names only the targets of its declared edges.
 */
function undeclaredEdge(principal: SandboxPrincipal, request: IamRequest): string | undefined {
  const mesh = principal.mesh;
  const [target] = request.context['dynamodb:leadingkeys'] ?? [];
  const table = request.resource.split(':table/')[1]?.split('/')[0];
  if (!mesh || table !== mesh.policyTable || !target || target.includes('#') || target === mesh.service)
    return undefined;
  return (
    `${mesh.service} has no edge to ${target} (a role reads the policy of its declared targets only); ` +
    `to allow its calls, declare the edge ${mesh.service} -> ${target} in CDK with allowCallsTo`
  );
}

/** The CDK grant or edge that would allow `action` (a Deny is the template's own choice). */
function fixFor(action: string, denial: Denial): string {
  if (denial === 'resource')
    return "a Deny statement of the resource's own policy refuses this role: make the call elsewhere";
  if (denial === 'identity') {
    return action === 'lambda:InvokeFunction'
      ? "the role denies it: call the target's `live` alias or a version, never $LATEST"
      : 'a Deny statement of the role refuses it: remove it from the role, or make the call elsewhere';
  }
  switch (action) {
    case 'lambda:InvokeFunction':
      return 'declare the edge in CDK: caller.allowCallsTo(target) (a function outside the mesh: target.grantInvoke(fn))';
    case 'dynamodb:GetItem':
    case 'dynamodb:Query':
      return "grant it in CDK: table.grantReadData(fn) (the mesh's policy table: declare the edge with allowCallsTo)";
    case 'dynamodb:PutItem':
    case 'dynamodb:UpdateItem':
      return 'grant it in CDK: table.grantWriteData(fn) or table.grantReadWriteData(fn)';
    case 'secretsmanager:GetSecretValue':
      return 'grant it in CDK: secret.grantRead(fn)';
    case 'events:PutEvents':
      return 'grant it in CDK: bus.grantPutEventsTo(fn) (a mesh edge to a bus: allowSendTo)';
    case 'sns:Publish':
      return 'grant it in CDK: topic.grantPublish(fn) (a mesh edge to a topic: allowSendTo)';
    default:
      return 'grant it in CDK: queue.grantSendMessages(fn) (a mesh edge to a queue: allowCallsTo)';
  }
}

/** AccessDeniedException as each service writes it on its protocol. */
function refusal(service: string, principal: SandboxPrincipal, request: IamRequest, denial: Denial): IamRefusal {
  const { action } = request;
  const resource = request.named ?? request.resource;
  const because =
    denial === 'implicit'
      ? `because no identity-based policy allows the ${action} action`
      : `with an explicit deny in ${denial === 'resource' ? 'a resource' : 'an identity'}-based policy`;
  const message = (named: string) =>
    `User: ${principal.arn} is not authorized to perform: ${named} on resource: ${resource} ${because}`;
  switch (service) {
    case 'lambda':
      return { error: new AwsError('AccessDeniedException', 403, message(action)), protocol: 'restJson1', service };
    case 'dynamodb':
      return {
        error: new AwsError('com.amazon.coral.service#AccessDeniedException', 400, message(action)),
        protocol: 'awsJson1_0',
        service,
      };
    case 'secretsmanager':
      return { error: new AwsError('AccessDeniedException', 400, message(action)), protocol: 'awsJson1_1', service };
    case 'sns':
      // SNS names the action with its service in capitals (SNS:Publish), in its query protocol's AuthorizationError.
      return {
        error: new AwsError('AuthorizationError', 403, message(action.replace(/^sns:/, 'SNS:'))),
        protocol: 'awsQuery',
        service,
      };
    default:
      if (action.startsWith('events:')) {
        const error = new AwsError('AccessDeniedException', 400, message(action));
        return { error, protocol: 'awsJson1_1', service: 'events' };
      }
      // SQS, query-compatible: 403, the query protocol's code AccessDenied, and the action in lower case
      // in its message, as SQS writes it.
      return {
        error: queryCompatibleError(
          'com.amazon.coral.service#AccessDeniedException',
          'AccessDenied',
          403,
          message(action.toLowerCase()),
        ),
        protocol: 'awsJson1_0',
        service: 'sqs',
      };
  }
}
