/**
 * A function's asynchronous invocation settings on the wire (AWS Lambda API Reference,
 * "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "GetFunctionEventInvokeConfig",
 * "DeleteFunctionEventInvokeConfig"): the same settings an AWS::Lambda::EventInvokeConfig deploys, which
 * the Event invokes of that function and qualifier then follow.
 */
import { AwsError } from './errors';
import { functionArn, validationError } from './function-name';
import {
  type AsyncInvokeHooks,
  type AsyncInvokeSettings,
  functionNotFound,
  functionRef,
  jsonBody,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
  paginate,
} from './lambda-context';

/** The bounds the API model gives MaximumRetryAttempts and MaximumEventAgeInSeconds. */
const RETRIES = { min: 0, max: 2 } as const;
const EVENT_AGE_S = { min: 60, max: 21_600 } as const;
/** ListFunctionEventInvokeConfigs' largest page, and its MaxItems' bound (1 to 50): a larger one is refused. */
const LIST_PAGE = 50;

/** PutFunctionEventInvokeConfig replaces the settings: what it leaves out is removed. */
export const putFunctionEventInvokeConfig: LambdaHandler = (ctx, req) => write(ctx, req, 'replace');

/** UpdateFunctionEventInvokeConfig changes only what it names, on settings that must exist. */
export const updateFunctionEventInvokeConfig: LambdaHandler = (ctx, req) => write(ctx, req, 'merge');

export const getFunctionEventInvokeConfig: LambdaHandler = (ctx, req) => {
  const { hooks, name, qualifier } = target(ctx, req);
  return { status: 200, json: describe(ctx, name, qualifier, existing(ctx, hooks, name, qualifier)) };
};

/** ListFunctionEventInvokeConfigs: each qualifier's settings, 50 a page at most (Marker/MaxItems). */
export const listFunctionEventInvokeConfigs: LambdaHandler = (ctx, req) => {
  const { hooks, name } = target(ctx, req);
  const all = hooks.list(name).map((c) => describe(ctx, name, c.qualifier, c.settings));
  const { page, nextMarker } = paginate(all, req.query, LIST_PAGE, LIST_PAGE);
  return { status: 200, json: { FunctionEventInvokeConfigs: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};

export const deleteFunctionEventInvokeConfig: LambdaHandler = (ctx, req) => {
  const { hooks, name, qualifier } = target(ctx, req);
  existing(ctx, hooks, name, qualifier);
  hooks.delete(name, qualifier);
  return { status: 204 };
};

function write(ctx: LambdaContext, req: LambdaRequest, mode: 'replace' | 'merge') {
  const { hooks, name, qualifier } = target(ctx, req);
  const before = mode === 'merge' ? existing(ctx, hooks, name, qualifier) : {};
  const settings = { ...before, ...settingsIn(jsonBody(req)), lastModified: Date.now() };
  hooks.put(name, qualifier, settings);
  return { status: 200, json: describe(ctx, name, qualifier, settings) };
}

/** The function and qualifier a request names; the function must exist at that qualifier. */
function target(ctx: LambdaContext, req: LambdaRequest) {
  const ref = functionRef(ctx, req, true);
  if (ctx.registry.resolveVersion(ref.name, ref.qualifier) === undefined) {
    throw functionNotFound(ctx, ref.name, ref.qualifier ?? '$LATEST');
  }
  if (!ctx.asyncInvokes) throw new AwsError('ServiceException', 500, 'This endpoint runs no asynchronous invocations.');
  return { hooks: ctx.asyncInvokes, name: ref.name, qualifier: ref.qualifier };
}

function existing(
  ctx: LambdaContext,
  hooks: AsyncInvokeHooks,
  name: string,
  qualifier: string | undefined,
): AsyncInvokeSettings {
  const settings = hooks.settings(name, qualifier);
  if (settings) return settings;
  throw new AwsError(
    'ResourceNotFoundException',
    404,
    `The function ${functionArn(ctx.region, ctx.accountId, name, qualifier ?? '$LATEST')} doesn't have an EventInvokeConfig`,
  );
}

/** The settings a request body gives, each checked against the model's bounds. */
function settingsIn(body: Record<string, unknown>): AsyncInvokeSettings {
  const retries = bounded(body.MaximumRetryAttempts, 'maximumRetryAttempts', RETRIES);
  const age = bounded(body.MaximumEventAgeInSeconds, 'maximumEventAgeInSeconds', EVENT_AGE_S);
  const dest = (body.DestinationConfig ?? {}) as {
    OnSuccess?: { Destination?: string };
    OnFailure?: { Destination?: string };
  };
  return {
    ...(retries !== undefined ? { maximumRetryAttempts: retries } : {}),
    ...(age !== undefined ? { maximumEventAgeInSeconds: age } : {}),
    ...(dest.OnSuccess?.Destination ? { onSuccess: dest.OnSuccess.Destination } : {}),
    ...(dest.OnFailure?.Destination ? { onFailure: dest.OnFailure.Destination } : {}),
  };
}

function bounded(v: unknown, field: string, range: { min: number; max: number }): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw validationError([
      `Value '${String(v)}' at '${field}' failed to satisfy constraint: Member must be an integer`,
    ]);
  }
  if (v < range.min) {
    throw validationError([
      `Value '${v}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${range.min}`,
    ]);
  }
  if (v > range.max) {
    throw validationError([
      `Value '${v}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${range.max}`,
    ]);
  }
  return v;
}

/** FunctionEventInvokeConfig as Lambda answers it: both destinations named, empty where unset. */
function describe(ctx: LambdaContext, name: string, qualifier: string | undefined, s: AsyncInvokeSettings) {
  return {
    LastModified: (s.lastModified ?? Date.now()) / 1000,
    FunctionArn: functionArn(ctx.region, ctx.accountId, name, qualifier ?? '$LATEST'),
    ...(s.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: s.maximumRetryAttempts } : {}),
    ...(s.maximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: s.maximumEventAgeInSeconds } : {}),
    DestinationConfig: {
      OnSuccess: s.onSuccess ? { Destination: s.onSuccess } : {},
      OnFailure: s.onFailure ? { Destination: s.onFailure } : {},
    },
  };
}
