/**
 * UpdateFunctionCode and UpdateFunctionConfiguration (API reference pages of the same names), with the
 * state transition tools wait on: the answer says `LastUpdateStatus: InProgress`, GetFunction says
 * `Successful` once the update settled, and a second update meanwhile is 409 ResourceConflictException.
 * Code arrives as ZipFile (base64 in the JSON body) and is unpacked into a directory of its own; the
 * local mesh has no S3 and runs no images, and says so naming the parameter. Settings the local mesh
 * cannot apply (layers, VPC, file systems, ...) are refused by name rather than silently ignored.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { AwsError, invalidParameter } from './errors';
import { validationError } from './function-name';
import {
  functionNotFound,
  functionRef,
  jsonBody,
  type LambdaContext,
  type LambdaHandler,
  type LambdaRequest,
  optionalString,
} from './lambda-context';
import { staleRevision } from './versions';
import { extractZip, ZipError } from './zip-archive';

/** Lambda's caps on a direct upload (recorded AWS errors). */
export const ZIPPED_LIMIT = 52_428_800;
export const UNZIPPED_LIMIT = 262_144_000;
/** Lambda's cap on a function's environment variables, keys and values as JSON. */
export const ENVIRONMENT_LIMIT = 4096;

type Body = Record<string, unknown>;

/** The function an update names and the update's body; a RevisionId that moved on is 412. */
function updateOf(ctx: LambdaContext, req: LambdaRequest): { name: string; body: Body } {
  const ref = functionRef(ctx, req);
  const current = ctx.registry.getFunction(ref.name);
  if (!current) throw functionNotFound(ctx, ref.name);
  const body = jsonBody(req);
  const revisionId = optionalString(body, 'RevisionId');
  if (revisionId !== undefined && revisionId !== current.RevisionId) throw staleRevision();
  return { name: ref.name, body };
}

export const updateFunctionCode: LambdaHandler = (ctx, req) => {
  const { name, body } = updateOf(ctx, req);
  checkArchitectures(body.Architectures);
  if (optionalString(body, 'ImageUri') !== undefined) {
    throw invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.");
  }
  if (optionalString(body, 'S3Bucket') !== undefined || optionalString(body, 'S3Key') !== undefined) {
    throw invalidParameter(
      'The local mesh has no S3 to read S3Bucket/S3Key from: send the package as ZipFile (aws lambda update-function-code --zip-file fileb://code.zip).',
    );
  }
  const zip = optionalString(body, 'ZipFile');
  if (zip === undefined) throw invalidParameter('Please provide a source for function code.');
  const bytes = Buffer.from(zip, 'base64');
  if (bytes.length > ZIPPED_LIMIT) {
    throw new AwsError('RequestEntityTooLargeException', 413, `Zipped size must be smaller than ${ZIPPED_LIMIT} bytes`);
  }
  const codeDir = ctx.newCodeDir();
  try {
    extractZip(bytes, codeDir, UNZIPPED_LIMIT);
  } catch (err) {
    // A refused package leaves nothing on disk: each refused upload would otherwise keep what it unpacked.
    rmSync(codeDir, { recursive: true, force: true });
    if (!(err instanceof ZipError)) throw err;
    throw invalidParameter(
      /unzipped size/.test(err.message)
        ? `Unzipped size must be smaller than ${UNZIPPED_LIMIT} bytes`
        : `Could not unzip uploaded file. Please check your file, then try to upload again. (${err.message})`,
    );
  }
  if (body.DryRun === true) return { status: 200, json: ctx.registry.getFunction(name) };
  const config = ctx.registry.updateFunctionCode(
    name,
    { codeDir, codeSha256: createHash('sha256').update(bytes).digest('base64'), codeSize: bytes.length },
    { publish: body.Publish === true },
  );
  return { status: 200, json: config };
};

/** Settings UpdateFunctionConfiguration takes that have no local meaning: refused by name. */
const NOT_APPLIED_LOCALLY = [
  'Layers',
  'VpcConfig',
  'FileSystemConfigs',
  'ImageConfig',
  'SnapStart',
  'KMSKeyArn',
  'DeadLetterConfig',
  'CapacityProviderConfig',
] as const;

export const updateFunctionConfiguration: LambdaHandler = (ctx, req) => {
  const { name, body } = updateOf(ctx, req);
  const unapplied = NOT_APPLIED_LOCALLY.filter((k) => body[k] !== undefined);
  if (unapplied.length > 0) {
    throw invalidParameter(
      `The local mesh cannot apply ${unapplied.join(', ')} with UpdateFunctionConfiguration: change it in the app and deploy it again.`,
    );
  }
  const runtime = runtimeOf(body);
  const environment = environmentOf(body);
  const config = ctx.registry.updateFunctionConfiguration(name, {
    handler: optionalString(body, 'Handler'),
    runtime,
    role: roleOf(body),
    description: optionalString(body, 'Description'),
    timeout: bounded(body, 'Timeout', 'timeout', 1, 900),
    memorySize: bounded(body, 'MemorySize', 'memorySize', 128, 10_240),
    environment,
    tracingMode: (body.TracingConfig as { Mode?: string } | undefined)?.Mode,
    ephemeralStorageMb:
      body.EphemeralStorage !== undefined
        ? bounded(body.EphemeralStorage as Body, 'Size', 'ephemeralStorage.size', 512, 10_240)
        : undefined,
    logFormat: (body.LoggingConfig as { LogFormat?: string } | undefined)?.LogFormat,
    logGroup: (body.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup,
    applicationLogLevel: (body.LoggingConfig as { ApplicationLogLevel?: string } | undefined)?.ApplicationLogLevel,
  });
  return { status: 200, json: config };
};

/**
 * The runtimes Lambda's refusal of an unknown one lists, in the order it prints them (recorded from AWS
 * in January 2026; a set, so its order is the service's, not a sort).
 */
const LAMBDA_RUNTIMES = [
  'nodejs20.x',
  'python3.14',
  'provided.al2023',
  'python3.12',
  'python3.13',
  'nodejs24.x',
  'nodejs22.x',
  'java25',
  'python3.10',
  'python3.11',
  'java21',
  'ruby3.3',
  'ruby3.4',
  'ruby3.2',
  'python3.8',
  'python3.9',
  'java17',
  'nodejs16.x',
  'dotnet10',
  'dotnet8',
  'java11',
  'dotnet6',
  'nodejs18.x',
  'provided.al2',
  'java8.al2',
];

/**
 * Runtime as Lambda checks it: a name it does not know (case counts) is refused in its words, before
 * the local mesh's own refusal of a runtime it cannot run (anything but Node.js).
 */
function runtimeOf(body: Body): string | undefined {
  const runtime = optionalString(body, 'Runtime');
  if (runtime === undefined) return undefined;
  if (!LAMBDA_RUNTIMES.includes(runtime) && !runtime.startsWith('arn:')) {
    throw invalidParameter(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${LAMBDA_RUNTIMES.join(', ')}] or be a valid ARN`,
    );
  }
  if (!runtime.startsWith('nodejs')) {
    throw invalidParameter(`The local mesh runs Node.js functions only, got Runtime ${runtime}.`);
  }
  return runtime;
}

/** The Role pattern Lambda prints when it refuses one (AWS Lambda API Reference, UpdateFunctionConfiguration). */
const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ROLE = new RegExp(`^(?:${ROLE_PATTERN})$`);

function roleOf(body: Body): string | undefined {
  const role = optionalString(body, 'Role');
  if (role !== undefined && !ROLE.test(role)) {
    throw validationError([
      `Value '${role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ROLE_PATTERN}`,
    ]);
  }
  return role;
}

function environmentOf(body: Body): Record<string, string> | undefined {
  if (body.Environment === undefined || body.Environment === null) return undefined;
  const vars = (body.Environment as { Variables?: unknown }).Variables ?? {};
  if (
    typeof vars !== 'object' ||
    Array.isArray(vars) ||
    Object.values(vars as object).some((v) => typeof v !== 'string')
  ) {
    throw invalidParameter('Environment.Variables must be a map of strings.');
  }
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured) > ENVIRONMENT_LIMIT) {
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return vars as Record<string, string>;
}

function bounded(body: Body, key: string, member: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw invalidParameter(`${key} must be a whole number, got ${JSON.stringify(v)}`);
  if (v < min) {
    throw validationError([
      `Value '${v}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    ]);
  }
  if (v > max) {
    throw validationError([
      `Value '${v}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    ]);
  }
  return v;
}

function checkArchitectures(value: unknown): void {
  if (value === undefined || value === null) return;
  const list = Array.isArray(value) ? value : [value];
  if (list.length !== 1) {
    throw validationError([
      `Value '[${list.join(', ')}]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1`,
    ]);
  }
  if (list[0] !== 'x86_64' && list[0] !== 'arm64') {
    throw validationError([
      `Value '[${list.join(', ')}]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]`,
    ]);
  }
}
