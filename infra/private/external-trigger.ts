/**
 * Triggers from outside the mesh: resources through which an AWS service invokes a mesh function (its
 * function, a version or an alias). Each event such a trigger brings reaches the mesh's wrapper as a
 * caller `external`, which a policy without `allow#external` refuses (`no-edge`). Synth warns of
 * them on a function that admits no external caller: a refusal may be meant, so a warning.
 */
import {
  Annotations,
  DefaultTokenResolver,
  type IPostProcessor,
  type IResolvable,
  type IResolveContext,
  Reference,
  StringConcat,
  Tokenization,
} from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { MeshFunction } from '../mesh-function';

/** A trigger as the warning names it. */
export interface ExternalTrigger {
  /** The construct path of its resource. */
  readonly path: string;
  /** What it is, e.g. `an event source mapping`, `a permission for apigateway.amazonaws.com`. */
  readonly what: string;
}

/** The triggers the mesh wires itself (`receiveFrom`): they carry the mesh's own messages. */
const MESH_WIRED = new WeakSet<IConstruct>();

/**
 * Runs `wire` and records every construct it adds under `scope` as the mesh's own: the event source
 * mapping and the SNS permission land under the consumer's alias, the EventBridge permission under the
 * rule the consumer owns.
 */
export function meshWired<T>(scope: IConstruct, wire: () => T): T {
  const before = new Set(scope.node.findAll());
  const out = wire();
  for (const c of scope.node.findAll()) if (!before.has(c)) MESH_WIRED.add(c);
  return out;
}

/**
 * Whether a permission's principal is an AWS service (`apigateway.amazonaws.com`, `s3.amazonaws.com`
 * and their `.amazonaws.com.cn` names). An account or role principal is not taken for a trigger: it
 * may be another mesh calling in with its identity, and a role's callers are not events.
 */
export function isServicePrincipal(principal: unknown): boolean {
  return typeof principal === 'string' && /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(principal);
}

/**
 * Whether a literal names the function `name`, alone or qualified, or by its ARN (a trigger written
 * with the name in a string rather than a reference).
 */
export function namesFunction(value: unknown, name: string): boolean {
  if (typeof value !== 'string') return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(arn:[^:]+:lambda:[^:]*:[^:]*:function:|\\d{12}:function:)?${escaped}(:[^:]+)?$`).test(value);
}

/** A value resolved as the template holds it, with the resources it refers to (Ref, Fn::GetAtt). */
interface Resolved {
  readonly value: unknown;
  readonly refersTo: ReadonlySet<IConstruct>;
}

/**
 * Resolves `value` in `scope`'s stack and records the target of every reference met on the way, the
 * references inside intrinsics included: a reference across stacks still names its target here,
 * where the resolved value would only say `Fn::ImportValue`.
 */
function resolveWithReferences(scope: IConstruct, value: unknown): Resolved {
  const refersTo = new Set<IConstruct>();
  class Recorder extends DefaultTokenResolver {
    override resolveToken(t: IResolvable, context: IResolveContext, post: IPostProcessor) {
      if (t instanceof Reference) refersTo.add(t.target);
      return super.resolveToken(t, context, post);
    }
  }
  const resolver = new Recorder(new StringConcat());
  return { value: Tokenization.resolve(value, { scope, resolver, preparing: false }), refersTo };
}

/** A resource that may invoke a function, with the function it names resolved. */
interface Candidate extends ExternalTrigger {
  readonly resource: lambda.CfnPermission | lambda.CfnEventSourceMapping | lambda.CfnUrl;
  readonly target: Resolved;
}

/** What `c` is as a trigger from outside, if it is one. */
function asCandidate(c: IConstruct): Candidate | undefined {
  if (MESH_WIRED.has(c)) return undefined;
  const path = c.node.path;
  if (c instanceof lambda.CfnEventSourceMapping) {
    return { resource: c, path, what: 'an event source mapping', target: resolveWithReferences(c, c.functionName) };
  }
  if (c instanceof lambda.CfnUrl) {
    return { resource: c, path, what: 'a function URL', target: resolveWithReferences(c, c.targetFunctionArn) };
  }
  if (!(c instanceof lambda.CfnPermission)) return undefined;
  const principal = resolveWithReferences(c, c.principal).value;
  if (!isServicePrincipal(principal)) return undefined;
  const what = `a permission for ${String(principal)}`;
  return { resource: c, path, what, target: resolveWithReferences(c, c.functionName) };
}

/** Every trigger candidate of the app, and every version and alias with the function it belongs to. */
function scan(root: IConstruct): { candidates: Candidate[]; qualifiers: Map<IConstruct, Resolved> } {
  const candidates: Candidate[] = [];
  const qualifiers = new Map<IConstruct, Resolved>();
  for (const c of root.node.findAll()) {
    if (c instanceof lambda.CfnVersion || c instanceof lambda.CfnAlias) {
      qualifiers.set(c, resolveWithReferences(c, c.functionName));
      continue;
    }
    const candidate = asCandidate(c);
    if (candidate) candidates.push(candidate);
  }
  return { candidates, qualifiers };
}

/** The function's resource and its literal name (MeshFunction names every function at synth). */
function functionOf(fn: MeshFunction): { resource: lambda.CfnFunction; name: string } {
  const resource = fn.node.defaultChild as lambda.CfnFunction;
  return { resource, name: String(resource.functionName) };
}

/** The resources a trigger of `fn` may name: the function, and each version and alias of it. */
function invocables(fn: MeshFunction, qualifiers: Map<IConstruct, Resolved>): Set<IConstruct> {
  const { resource, name } = functionOf(fn);
  const out = new Set<IConstruct>([resource]);
  for (const [q, { refersTo, value }] of qualifiers) {
    if (refersTo.has(resource) || namesFunction(value, name)) out.add(q);
  }
  return out;
}

/** The triggers from outside the mesh that invoke `fn`; a function URL its mesh callers use is not one. */
function triggersOf(fn: MeshFunction, found: ReturnType<typeof scan>): ExternalTrigger[] {
  const targets = invocables(fn, found.qualifiers);
  const { name } = functionOf(fn);
  const endpoint = fn.httpEndpoint ? resolveWithReferences(fn, fn.httpEndpoint.url).refersTo : new Set();
  return found.candidates
    .filter((t) => [...t.target.refersTo].some((r) => targets.has(r)) || namesFunction(t.target.value, name))
    .filter((t) => !endpoint.has(t.resource))
    .map(({ path, what }) => ({ path, what }));
}

/** How many triggers a warning names; an API's permissions (two a method) would drown it. */
const NAMED_TRIGGERS = 3;

/** The warning's text: which triggers, what happens to their events, and the two ways out. */
export function externalTriggerMessage(service: string, triggers: readonly ExternalTrigger[]): string {
  const named = triggers.slice(0, NAMED_TRIGGERS).map((t) => `${t.path} (${t.what})`);
  const more = triggers.length > NAMED_TRIGGERS ? ` and ${triggers.length - NAMED_TRIGGERS} more` : '';
  return (
    `${named.join(', ')}${more} invoke${triggers.length === 1 ? 's' : ''} service "${service}" from outside the mesh, and its policy admits no caller from outside: ` +
    `every event they bring is refused at run time (denied; the access log's reason: no-edge, external may not call ${service}). ` +
    "Admit them with fn.allowExternal(); if the refusal is meant, acknowledge this warning: Annotations.of(fn).acknowledgeWarning('lambda-mesh:externalTrigger', reason)"
  );
}

/**
 * Warns on each of `fns` (functions that admit no external caller) that a trigger from outside the
 * mesh invokes. One walk of the app for all of them. A validation's part: it returns no error.
 */
export function warnOfExternalTriggers(root: IConstruct, fns: readonly MeshFunction[]): void {
  if (fns.length === 0) return;
  const found = scan(root);
  for (const fn of fns) {
    const triggers = triggersOf(fn, found);
    if (triggers.length === 0) continue;
    Annotations.of(fn).addWarningV2('lambda-mesh:externalTrigger', externalTriggerMessage(fn.service, triggers));
  }
}
