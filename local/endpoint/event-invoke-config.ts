/**
 * A function's asynchronous invocation settings on the wire (AWS Lambda API Reference,
 * "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "GetFunctionEventInvokeConfig",
 * "DeleteFunctionEventInvokeConfig"): the same settings an AWS::Lambda::EventInvokeConfig deploys, which
 * the Event invokes of that function and qualifier then follow. Errors are worded as Lambda words them
 * in the responses recorded from AWS (LocalStack's parity tests): a write or a list naming a function
 * or qualifier that does not exist is "The function doesn't exist.", a read or a delete of one says it
 * has no EventInvokeConfig.
 */
import { AwsError, invalidParameter, notFound } from './errors';
import { functionArn, validationError } from './function-name';
import {
  type AsyncInvokeHooks,
  type AsyncInvokeSettings,
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
  const { hooks, name, qualifier } = target(ctx, req, 'unchecked');
  return { status: 200, json: describe(ctx, name, qualifier, existing(ctx, hooks, name, qualifier)) };
};

/** ListFunctionEventInvokeConfigs: each qualifier's settings, 50 a page at most (Marker/MaxItems). */
export const listFunctionEventInvokeConfigs: LambdaHandler = (ctx, req) => {
  const { hooks, name } = target(ctx, req, 'must exist');
  const all = hooks.list(name).map((c) => describe(ctx, name, c.qualifier, c.settings));
  const { page, nextMarker } = paginate(all, req.query, LIST_PAGE, LIST_PAGE);
  return { status: 200, json: { FunctionEventInvokeConfigs: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) } };
};

export const deleteFunctionEventInvokeConfig: LambdaHandler = (ctx, req) => {
  const { hooks, name, qualifier } = target(ctx, req, 'unchecked');
  existing(ctx, hooks, name, qualifier);
  hooks.delete(name, qualifier);
  return { status: 204 };
};

function write(ctx: LambdaContext, req: LambdaRequest, mode: 'replace' | 'merge') {
  const body = jsonBody(req);
  // A Put that sets nothing is refused before the function is looked up, as Lambda refuses it.
  if (mode === 'replace' && !SETTINGS.some((key) => body[key] !== undefined && body[key] !== null)) {
    throw invalidParameter('You must specify at least one of error handling or destination setting.');
  }
  const { hooks, name, qualifier } = target(ctx, req, 'must exist');
  const before = mode === 'merge' ? existing(ctx, hooks, name, qualifier) : {};
  const settings = { ...before, ...settingsIn(body), lastModified: Date.now() };
  checkDestinations(ctx, name, settings);
  hooks.put(name, qualifier, settings);
  return { status: 200, json: describe(ctx, name, qualifier, settings) };
}

/** The members of which a Put must name at least one. */
const SETTINGS = ['MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig'] as const;

/**
 * The function and qualifier a request names. A write or a list needs the function to exist at that
 * qualifier; a read or a delete only finds no settings for one that does not.
 */
function target(ctx: LambdaContext, req: LambdaRequest, lookup: 'must exist' | 'unchecked') {
  const ref = functionRef(ctx, req, true);
  if (lookup === 'must exist' && ctx.registry.resolveVersion(ref.name, ref.qualifier) === undefined) {
    throw notFound("The function doesn't exist.");
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

/** The settings a request body gives, each checked against the model's bounds and pattern. */
function settingsIn(body: Record<string, unknown>): AsyncInvokeSettings {
  const retries = bounded(body.MaximumRetryAttempts, 'maximumRetryAttempts', RETRIES);
  const age = bounded(body.MaximumEventAgeInSeconds, 'maximumEventAgeInSeconds', EVENT_AGE_S);
  const dest = (body.DestinationConfig ?? {}) as {
    OnSuccess?: { Destination?: string };
    OnFailure?: { Destination?: string };
  };
  patterned(dest.OnSuccess?.Destination, 'destinationConfig.onSuccess.destination');
  patterned(dest.OnFailure?.Destination, 'destinationConfig.onFailure.destination');
  return {
    ...(retries !== undefined ? { maximumRetryAttempts: retries } : {}),
    ...(age !== undefined ? { maximumEventAgeInSeconds: age } : {}),
    ...(dest.OnSuccess?.Destination ? { onSuccess: dest.OnSuccess.Destination } : {}),
    ...(dest.OnFailure?.Destination ? { onFailure: dest.OnFailure.Destination } : {}),
  };
}

/** The model's pattern of a destination (DestinationArn), as Lambda prints it in its ValidationException. */
const DESTINATION_PATTERN =
  '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';
const DESTINATION = new RegExp(`^(?:${DESTINATION_PATTERN})$`);

function patterned(v: string | undefined, field: string): void {
  if (v === undefined || DESTINATION.test(v)) return;
  throw validationError([
    `Value '${v}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${DESTINATION_PATTERN}`,
  ]);
}

/** The services Lambda sends invocation records to ("Adding a destination", AWS Lambda Developer Guide). */
const DESTINATION_SERVICES = new Set(['sqs', 'sns', 'lambda', 'events', 's3']);

/**
 * Refuses destinations Lambda refuses, in its words: one on a service that takes no records, the
 * function itself, a function that does not exist. A function of another region or account is not
 * looked up: this endpoint cannot know it.
 */
function checkDestinations(ctx: LambdaContext, name: string, s: AsyncInvokeSettings): void {
  const destinations = [s.onSuccess, s.onFailure].filter((d): d is string => d !== undefined);
  if (destinations.some((arn) => !DESTINATION_SERVICES.has(arn.split(':')[2] ?? ''))) {
    const side = (label: string, arn: string | undefined) =>
      arn === undefined ? 'null' : `${label}(destination=${arn})`;
    throw invalidParameter(
      `The provided destination config DestinationConfig(onSuccess=${side('OnSuccess', s.onSuccess)}, onFailure=${side('OnFailure', s.onFailure)}) is invalid.`,
    );
  }
  for (const arn of destinations) {
    if (arn === functionArn(ctx.region, ctx.accountId, name)) {
      throw invalidParameter("You can't specify the function as a destination for itself.");
    }
    const local = localFunction(ctx, arn);
    if (local && ctx.registry.resolveVersion(local.name, local.qualifier) === undefined) {
      throw invalidParameter(`The destination ARN ${arn} is invalid.`);
    }
  }
}

/** The function a Lambda ARN of this region and account names, else undefined. */
function localFunction(ctx: LambdaContext, arn: string): { name: string; qualifier?: string } | undefined {
  const [, , service, region, account, kind, name, qualifier] = arn.split(':');
  if (service !== 'lambda' || region !== ctx.region || account !== ctx.accountId || kind !== 'function' || !name)
    return undefined;
  return { name, qualifier };
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
