/**
 * Resolves CloudFormation intrinsic functions well enough for the mesh's templates: Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue, Fn::GetStackOutput, Fn::Base64 and the
 * pseudo parameters (pseudo-parameters.ts). Fn::If, AWS::NoValue and Fn::FindInMap never reach it: a
 * stack's template comes here with its conditions and mappings applied (active-template.ts).
 * Physical names follow the template when it names a resource, else `<stack>-<logicalId>` (CloudFormation
 * adds a random suffix; locally a stable name is more useful). A value that cannot be resolved locally
 * (an attribute nothing local has) resolves to undefined and the caller decides what to warn.
 */

import { busNameOf, ruleResource } from '../events/event-buses';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import { pseudoParameter, type StackPlace } from './pseudo-parameters';

export interface ResolverOptions {
  readonly region: string;
  readonly accountId: string;
  /** Version number a `AWS::Lambda::Version` resource got in this deployment (`<stack>/<logicalId>`). */
  readonly versionNumber?: (key: string) => string | undefined;
  /** Full ARN (with the store's random suffix) of a secret by name, once created. */
  readonly secretArn?: (name: string, region: string) => string | undefined;
  /** The URL of a local SQS queue by name. @default SQS's regional URL */
  readonly queueUrl?: (name: string) => string;
}

class Unresolved extends Error {}

/** Outputs that read each other: no order of stacks deploys them, so the assembly is refused. */
export class OutputCycleError extends Error {
  override readonly name: string = 'OutputCycleError';
}

export function versionKey(stack: AssemblyStack, logicalId: string): string {
  return `${stack.id}/${logicalId}`;
}

export class Resolver {
  private readonly exports = new Map<string, { stack: AssemblyStack; value: unknown }>();
  /** The outputs being resolved, outermost first (`<stack>.<output>`, or an export's name). */
  private readonly reading: string[] = [];

  constructor(
    private readonly stacks: readonly AssemblyStack[],
    private readonly options: ResolverOptions,
  ) {
    for (const stack of stacks) {
      for (const out of Object.values(stack.template.Outputs ?? {})) {
        if (!out.Export) continue;
        const name = this.resolve(stack, out.Export.Name);
        if (typeof name === 'string') this.exports.set(name, { stack, value: out.Value });
      }
    }
  }

  /** The resolved value, or undefined when some part of it has no local value. */
  resolve(stack: AssemblyStack, value: unknown): unknown {
    try {
      return this.eval(stack, value);
    } catch (err) {
      if (err instanceof Unresolved) return undefined;
      throw err;
    }
  }

  resolveString(stack: AssemblyStack, value: unknown): string | undefined {
    const v = this.resolve(stack, value);
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  }

  /** The physical name a resource gets locally. */
  physicalName(stack: AssemblyStack, logicalId: string): string {
    const r = this.resource(stack, logicalId);
    const p = r.Properties ?? {};
    const named = (prop: string) => (p[prop] !== undefined ? this.resolveString(stack, p[prop]) : undefined);
    const generated = `${stack.stackName}-${logicalId}`.slice(0, 64);
    switch (r.Type) {
      case 'AWS::Lambda::Function':
        return named('FunctionName') ?? generated;
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return named('TableName') ?? generated;
      case 'AWS::SecretsManager::Secret':
        return named('Name') ?? generated;
      case 'AWS::Lambda::LayerVersion':
        return named('LayerName') ?? generated;
      case 'AWS::IAM::Role':
        return named('RoleName') ?? generated;
      case 'AWS::IAM::ManagedPolicy':
        return named('ManagedPolicyName') ?? generated;
      case 'AWS::CodeDeploy::Application':
        return named('ApplicationName') ?? generated;
      case 'AWS::CodeDeploy::DeploymentGroup':
        return named('DeploymentGroupName') ?? generated;
      case 'AWS::CodeDeploy::DeploymentConfig':
        return named('DeploymentConfigName') ?? generated;
      case 'AWS::CloudWatch::Alarm':
        return named('AlarmName') ?? generated;
      case 'AWS::SQS::Queue':
        return named('QueueName') ?? generated;
      case 'AWS::Events::EventBus':
      case 'AWS::Events::Rule':
        return named('Name') ?? generated;
      // CloudFormation names a FIFO topic without a TopicName with the .fifo it needs.
      case 'AWS::SNS::Topic':
        return named('TopicName') ?? (String(r.Properties?.FifoTopic) === 'true' ? `${generated}.fifo` : generated);
      default:
        return generated;
    }
  }

  /** The region a stack deploys to: the one it names, else the mesh's home region. */
  regionOf(stack: AssemblyStack): string {
    return stack.region ?? this.options.region;
  }

  /** The stack's name, region and account, as its pseudo parameters give them. */
  placeOf(stack: AssemblyStack): StackPlace {
    return { stackName: stack.stackName, region: this.regionOf(stack), accountId: this.options.accountId };
  }

  arn(stack: AssemblyStack, service: string, resource: string): string {
    return `arn:aws:${service}:${this.regionOf(stack)}:${this.options.accountId}:${resource}`;
  }

  private resource(stack: AssemblyStack, logicalId: string): TemplateResource {
    const r = stack.template.Resources?.[logicalId];
    if (!r) throw new Unresolved(`no resource ${logicalId}`);
    return r;
  }

  private ref(stack: AssemblyStack, name: string): unknown {
    const pseudo = pseudoParameter(name, this.placeOf(stack));
    if (pseudo !== undefined) return pseudo;
    if (name === 'AWS::NoValue') throw new Unresolved('AWS::NoValue');
    const param = stack.template.Parameters?.[name];
    if (param) {
      if (param.Default === undefined) throw new Unresolved(`parameter ${name} has no default`);
      return param.Default;
    }
    const r = this.resource(stack, name);
    const physical = this.physicalName(stack, name);
    switch (r.Type) {
      case 'AWS::Lambda::Function':
        return physical;
      case 'AWS::DynamoDB::Table':
        return physical;
      // A full ARN with the store's suffix: CDK's secretName cuts the 6-character suffix off the Ref.
      case 'AWS::SecretsManager::Secret':
        return (
          this.options.secretArn?.(physical, this.regionOf(stack)) ??
          this.arn(stack, 'secretsmanager', `secret:${physical}-000000`)
        );
      case 'AWS::Lambda::LayerVersion':
        return this.arn(stack, 'lambda', `layer:${physical}:1`);
      case 'AWS::Lambda::Version':
        return `${this.functionArnOf(stack, r)}:${this.versionOf(stack, name)}`;
      case 'AWS::Lambda::Alias':
        return `${this.functionArnOf(stack, r)}:${this.resolveString(stack, r.Properties?.Name)}`;
      case 'AWS::SQS::Queue':
        return this.queueUrlOf(stack, physical);
      case 'AWS::SNS::Topic':
        return this.arn(stack, 'sns', physical);
      // IAM is global: no region in the ARN.
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${this.options.accountId}:policy/${physical}`;
      default:
        return physical;
    }
  }

  private queueUrlOf(stack: AssemblyStack, name: string): string {
    return (
      this.options.queueUrl?.(name) ??
      `https://sqs.${this.regionOf(stack)}.amazonaws.com/${this.options.accountId}/${name}`
    );
  }

  private functionArnOf(stack: AssemblyStack, r: TemplateResource): string {
    const fn = this.eval(stack, r.Properties?.FunctionName);
    if (typeof fn !== 'string') throw new Unresolved('function name');
    return fn.startsWith('arn:') ? fn : this.arn(stack, 'lambda', `function:${fn}`);
  }

  private versionOf(stack: AssemblyStack, logicalId: string): string {
    const n = this.options.versionNumber?.(versionKey(stack, logicalId));
    if (n === undefined) throw new Unresolved(`version of ${logicalId} not published yet`);
    return n;
  }

  private getAtt(stack: AssemblyStack, logicalId: string, attr: string): unknown {
    const r = this.resource(stack, logicalId);
    const name = this.physicalName(stack, logicalId);
    switch (`${r.Type}.${attr}`) {
      case 'AWS::Lambda::Function.Arn':
        return this.arn(stack, 'lambda', `function:${name}`);
      case 'AWS::DynamoDB::Table.Arn':
      case 'AWS::DynamoDB::GlobalTable.Arn':
        return this.arn(stack, 'dynamodb', `table/${name}`);
      case 'AWS::DynamoDB::Table.StreamArn':
      case 'AWS::DynamoDB::GlobalTable.StreamArn':
        return this.arn(stack, 'dynamodb', `table/${name}/stream/1970-01-01T00:00:00.000`);
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${this.options.accountId}:role/${name}`;
      case 'AWS::Lambda::Version.Version':
        return this.versionOf(stack, logicalId);
      case 'AWS::Lambda::Version.FunctionArn':
        return this.functionArnOf(stack, r);
      case 'AWS::Lambda::LayerVersion.LayerVersionArn':
        return this.arn(stack, 'lambda', `layer:${name}:1`);
      case 'AWS::Lambda::Alias.AliasArn':
        return this.ref(stack, logicalId);
      case 'AWS::SecretsManager::Secret.Id':
        return this.ref(stack, logicalId);
      case 'AWS::SQS::Queue.Arn':
        return this.arn(stack, 'sqs', name);
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::SQS::Queue.QueueUrl':
        return this.queueUrlOf(stack, name);
      case 'AWS::Events::EventBus.Arn':
        return this.arn(stack, 'events', `event-bus/${name}`);
      case 'AWS::Events::EventBus.Name':
        return name;
      case 'AWS::Events::Rule.Arn':
        return this.arn(
          stack,
          'events',
          ruleResource(busNameOf(this.resolveString(stack, r.Properties?.EventBusName)), name),
        );
      case 'AWS::SNS::Topic.TopicArn':
        return this.arn(stack, 'sns', name);
      case 'AWS::SNS::Topic.TopicName':
        return name;
      default:
        throw new Unresolved(`${r.Type}.${attr}`);
    }
  }

  private eval(stack: AssemblyStack, v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.eval(stack, x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = o[k];
      switch (k) {
        case 'Ref':
          return this.ref(stack, String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/);
          return this.getAtt(stack, id, attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown];
          const list = this.eval(stack, parts);
          if (!Array.isArray(list)) throw new Unresolved('Fn::Join list');
          return list.map((p) => String(p)).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const l = this.eval(stack, list);
          const i = Number(this.eval(stack, index));
          if (!Array.isArray(l) || !(i >= 0 && i < l.length)) throw new Unresolved('Fn::Select');
          return l[i];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.eval(stack, text)).split(sep);
        }
        case 'Fn::Sub':
          return this.sub(stack, arg);
        case 'Fn::ImportValue': {
          const name = this.eval(stack, arg);
          const e = this.exports.get(String(name));
          if (!e) throw new Unresolved(`export ${String(name)}`);
          return this.readOutput(`export ${String(name)}`, () => this.eval(e.stack, e.value));
        }
        case 'Fn::GetStackOutput':
          return this.stackOutput(stack, arg);
        case 'Fn::Base64':
          return Buffer.from(String(this.eval(stack, arg))).toString('base64');
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((az) => `${this.regionOf(stack)}${az}`);
        default:
          if (k.startsWith('Fn::')) throw new Unresolved(k);
      }
    }
    return Object.fromEntries(keys.map((key) => [key, this.eval(stack, o[key])]));
  }

  /**
   * A weak cross-stack reference (CDK's `defaultCrossStackReferences: weak`, the default of a new app):
   * the producing stack's plain output, by stack name and region (the consumer's when it names none).
   */
  private stackOutput(stack: AssemblyStack, arg: unknown): unknown {
    const { StackName, OutputName, Region } = this.eval(stack, arg) as Record<string, unknown>;
    const region = Region === undefined ? this.regionOf(stack) : String(Region);
    const producer = this.stacks.find((s) => s.stackName === StackName && this.regionOf(s) === region);
    const output = producer?.template.Outputs?.[String(OutputName)];
    if (!producer || !output) throw new Unresolved(`output ${String(OutputName)} of stack ${String(StackName)}`);
    return this.readOutput(`${producer.stackName}.${String(OutputName)}`, () => this.eval(producer, output.Value));
  }

  /** `read`'s value; an output reached again while it is read is a cycle, named in the error. */
  private readOutput(name: string, read: () => unknown): unknown {
    const at = this.reading.indexOf(name);
    if (at >= 0) {
      const cycle = [...this.reading.slice(at), name].join(' -> ');
      throw new OutputCycleError(
        `the stacks' outputs read each other in a cycle (${cycle}); CloudFormation cannot deploy any of them first: make one of these values a parameter or move the resource it names into one stack`,
      );
    }
    this.reading.push(name);
    try {
      return read();
    } finally {
      this.reading.pop();
    }
  }

  private sub(stack: AssemblyStack, arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_m, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
      if (vars && expr in vars) return String(this.eval(stack, vars[expr]));
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::'))
        return String(this.getAtt(stack, expr.slice(0, dot), expr.slice(dot + 1)));
      return String(this.ref(stack, expr));
    });
  }
}
