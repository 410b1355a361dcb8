import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/** What a mesh function sends over the network itself, which decides the AWS endpoints it needs. */
export interface MeshTraffic {
  /** It has an identity secret to read (the mesh's identity is on). */
  readonly identity: boolean;
  /** It calls or sends to services by Lambda Invoke (edges to targets without an HTTP endpoint). */
  readonly invokes: boolean;
  /** The kinds of channel it sends to (`allowSendTo` a queue, topic or bus). */
  readonly channels: ReadonlySet<'sqs' | 'sns' | 'events'>;
  /** It calls a target at an HTTP URL (`addHttpEndpoint`). */
  readonly http: boolean;
}

/** An AWS service a function reaches, as a VPC endpoint of it is named and declared. */
export interface NeededEndpoint {
  /** The last part of the endpoint's service name, `com.amazonaws.<region>.<service>`. */
  readonly service: string;
  readonly type: 'Gateway' | 'Interface';
  /** Its constant in aws-cdk-lib's GatewayVpcEndpointAwsService or InterfaceVpcEndpointAwsService. */
  readonly constant: string;
  /** Why the function calls it. */
  readonly why: string;
}

/**
 * The AWS endpoints a mesh function calls from inside its sandbox ("Connecting inbound interface VPC
 * endpoints for Lambda" and "Giving Lambda functions access to resources in an Amazon VPC", AWS Lambda
 * Developer Guide: a function in a VPC reaches AWS services only through a NAT gateway or VPC
 * endpoints). Logs leave through Lambda itself and event sources are polled by Lambda, so neither is
 * here.
 */
export function neededEndpoints(t: MeshTraffic): NeededEndpoint[] {
  const out: NeededEndpoint[] = [
    {
      service: 'dynamodb',
      type: 'Gateway',
      constant: 'DYNAMODB',
      why: 'policy reads on the first request and every TTL',
    },
  ];
  const iface = (service: string, constant: string, why: string) =>
    out.push({ service, type: 'Interface', constant, why });
  if (t.identity) iface('secretsmanager', 'SECRETS_MANAGER', 'its identity secret');
  if (t.invokes) iface('lambda', 'LAMBDA', 'Invoke of its targets');
  if (t.channels.has('sqs')) iface('sqs', 'SQS', 'SendMessage to its queues');
  if (t.channels.has('sns')) iface('sns', 'SNS', 'Publish to its topics');
  if (t.channels.has('events')) iface('events', 'EVENTBRIDGE', 'PutEvents to its buses');
  return out;
}

/**
 * The service names of the endpoints of `vpc` declared in this app, resolved: aws-cdk-lib builds an
 * interface endpoint's name from tokens (`<prefix>.<region>.<service><suffix>`), so the service shows only
 * once resolved.
 */
function declaredEndpoints(vpc: ec2.IVpc): string[] {
  return vpc.node.root.node
    .findAll()
    .filter((c): c is ec2.CfnVPCEndpoint => c instanceof ec2.CfnVPCEndpoint && c.vpcId === vpc.vpcId)
    .map((e) => JSON.stringify(Stack.of(e).resolve(e.serviceName)));
}

/** Whether one of the resolved `names` is an endpoint of `service` (`….dynamodb`, not `….dynamodb-fips`). */
function declares(names: readonly string[], service: string): boolean {
  const pattern = new RegExp(`\\.${service}(?![a-z-])`);
  return names.some((n) => pattern.test(n));
}

/**
 * Whether the function's subnets route to the internet through a NAT gateway of the app: each is a
 * private subnet (PRIVATE_WITH_EGRESS) of a VPC made here that has NAT gateways. An imported VPC tells
 * nothing of its routes, so it counts as none.
 */
function hasNatEgress(fn: lambda.Function, vpc: ec2.IVpc): boolean {
  if (!(vpc instanceof ec2.Vpc) || !vpc.node.findAll().some((c) => c instanceof ec2.CfnNatGateway)) return false;
  const config = (fn.node.defaultChild as lambda.CfnFunction).vpcConfig as { subnetIds?: string[] } | undefined;
  const privateIds = new Set(vpc.privateSubnets.map((s) => s.subnetId));
  const ids = config?.subnetIds ?? [];
  return ids.length > 0 && ids.every((id) => privateIds.has(id));
}

/** The stack's region as the endpoint names spell it, `<region>` for an environment-agnostic stack. */
function regionOf(fn: lambda.Function): string {
  const { region } = Stack.of(fn);
  return Token.isUnresolved(region) ? '<region>' : region;
}

/** The lines of a warning that asks for `missing`, each as the `ec2` call that declares it. */
function endpointLines(missing: readonly NeededEndpoint[], region: string): string {
  return missing
    .map((e) => {
      const add = e.type === 'Gateway' ? 'addGatewayEndpoint' : 'addInterfaceEndpoint';
      const cls = e.type === 'Gateway' ? 'GatewayVpcEndpointAwsService' : 'InterfaceVpcEndpointAwsService';
      return `com.amazonaws.${region}.${e.service} (${e.type}: ${e.why}; vpc.${add}(..., { service: ec2.${cls}.${e.constant} }))`;
    })
    .join(', ');
}

/**
 * Warns at synth when a mesh function in a VPC may have no way to the AWS endpoints it calls: without
 * a NAT gateway or VPC endpoints, its policy read and its calls would wait on a connection that never
 * opens, until their timeouts and then the function's own. A validation (it returns no error), run once
 * every edge is declared; the app acknowledges the warning when its routes are made elsewhere.
 */
export function warnOfUnreachableEndpoints(fn: lambda.Function, vpc: ec2.IVpc, traffic: MeshTraffic): string[] {
  if (hasNatEgress(fn, vpc)) return [];
  const declared = declaredEndpoints(vpc);
  const missing = neededEndpoints(traffic).filter((e) => !declares(declared, e.service));
  const needs = [
    ...(missing.length ? [`VPC endpoints this app does not declare: ${endpointLines(missing, regionOf(fn))}`] : []),
    ...(traffic.http ? ['a NAT gateway (or a route of yours) to the URLs of its HTTP targets'] : []),
  ];
  if (needs.length === 0) return [];
  Annotations.of(fn).addWarningV2(
    'lambda-mesh:vpcEndpoints',
    `the function is in VPC ${vpc.node.path} without a NAT gateway of this app on its subnets, and reaches AWS services from there only through VPC endpoints ` +
      `("Giving Lambda functions access to resources in an Amazon VPC", AWS Lambda Developer Guide). It needs ${needs.join('; and ')}. ` +
      'Without them its policy reads and calls wait until their timeouts, then the function’s own. ' +
      "Add them, or route its subnets through a NAT gateway; when the routes are made outside this app, acknowledge this warning: Annotations.of(fn).acknowledgeWarning('lambda-mesh:vpcEndpoints', reason)",
  );
  return [];
}
