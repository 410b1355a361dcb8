/**
 * Secrets Manager on the wire (awsJson1_1, `X-Amz-Target: secretsmanager.<Op>`), backed by SecretStore.
 * Bodies and results are PascalCase as in the API reference; dates are epoch seconds.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, unsupported } from './errors';
import { checkSecretName, PreviousRotationIncomplete, type SecretDescription, type SecretStore } from './secret-store';

type Body = Record<string, unknown>;

/** What RotateSecret needs from the rest of the endpoint: a rotation-function check and a step runner. */
export interface RotationHooks {
  check(rotationLambdaArn: string): void;
  /**
   * Starts a rotation (all four steps) or, with `testOnly`, Secrets Manager's check of the set-up;
   * resolves true once it succeeded, false once it failed.
   */
  start(job: { secretArn: string; rotationLambdaArn: string; token: string; testOnly?: boolean }): Promise<boolean>;
}

/** Handles one Secrets Manager operation; returns the JSON result. Throws AwsError. */
export function handleSecrets(store: SecretStore, operation: string, body: Body, rotation?: RotationHooks): Body {
  if (typeof body.SecretId === 'string') checkSecretName(body.SecretId);
  if (operation === 'RotateSecret' && rotation) return rotateSecret(store, body, rotation);
  const op = OPERATIONS[operation];
  if (!op) throw unsupported('SecretsManager', operation || '(no X-Amz-Target)', 'awsJson1_1');
  return op(store, body);
}

/**
 * RotateSecret as AWS runs it: it answers at once and the rotation runs afterwards. With
 * RotateImmediately=false it only checks the set-up (testSecret on a new AWSPENDING version, then that
 * version goes). While an earlier rotation is unfinished it is refused, and that rotation is retried.
 */
function rotateSecret(store: SecretStore, b: Body, rotation: RotationHooks): Body {
  const id = secretId(b);
  const lambdaArn = optString(b, 'RotationLambdaARN');
  if (lambdaArn !== undefined) rotation.check(lambdaArn);
  const immediately = b.RotateImmediately !== false;
  const token = optString(b, 'ClientRequestToken') ?? randomUUID();
  const rules =
    b.RotationRules && typeof b.RotationRules === 'object' ? (b.RotationRules as Record<string, unknown>) : undefined;
  let r: ReturnType<SecretStore['beginRotation']>;
  try {
    r = store.beginRotation(id, { rotationLambdaArn: lambdaArn, rotationRules: rules, token });
  } catch (err) {
    if (err instanceof PreviousRotationIncomplete && err.rotationLambdaArn) {
      const arn = store.describe(id).arn;
      rotation.start({ secretArn: arn, rotationLambdaArn: err.rotationLambdaArn, token: err.pendingVersionId });
    }
    throw err;
  }
  if (lambdaArn === undefined) rotation.check(r.rotationLambdaArn);
  rotation.start({ secretArn: r.arn, rotationLambdaArn: r.rotationLambdaArn, token, testOnly: !immediately });
  return immediately ? { ARN: r.arn, Name: r.name, VersionId: token } : { ARN: r.arn, Name: r.name };
}

/**
 * A scheduled rotation, as Secrets Manager starts one: RotateSecret with the secret's own rotation
 * function and rules, so a rotation left unfinished is retried under its own token instead. Resolves
 * true once the rotation succeeded, false once it failed (reported by the step runner).
 */
export function rotateOnSchedule(store: SecretStore, secretId: string, rotation: RotationHooks): Promise<boolean> {
  let started: Promise<boolean> = Promise.resolve(false);
  const watched: RotationHooks = {
    check: (arn) => rotation.check(arn),
    start: (job) => (started = rotation.start(job)),
  };
  try {
    rotateSecret(store, { SecretId: secretId }, watched);
  } catch (err) {
    if (!(err instanceof PreviousRotationIncomplete)) throw err;
  }
  return started;
}

const OPERATIONS: Record<string, (store: SecretStore, body: Body) => Body> = {
  GetSecretValue(store, b) {
    const v = store.get(secretId(b), {
      versionId: optString(b, 'VersionId'),
      versionStage: optString(b, 'VersionStage'),
    });
    return {
      ARN: v.arn,
      Name: v.name,
      VersionId: v.versionId,
      ...(v.secretString !== undefined ? { SecretString: v.secretString } : {}),
      ...(v.secretBinary !== undefined ? { SecretBinary: v.secretBinary } : {}),
      VersionStages: v.versionStages,
      CreatedDate: v.createdDate,
    };
  },

  PutSecretValue(store, b) {
    const r = store.put(secretId(b), {
      clientRequestToken: optString(b, 'ClientRequestToken'),
      secretString: optString(b, 'SecretString'),
      secretBinary: optString(b, 'SecretBinary'),
      versionStages: optStrings(b, 'VersionStages'),
    });
    return { ARN: r.arn, Name: r.name, VersionId: r.versionId, VersionStages: r.versionStages };
  },

  CreateSecret(store, b) {
    const r = store.create({
      name: optString(b, 'Name') ?? '',
      description: optString(b, 'Description'),
      kmsKeyId: optString(b, 'KmsKeyId'),
      tags: optTags(b),
      clientRequestToken: optString(b, 'ClientRequestToken'),
      secretString: optString(b, 'SecretString'),
      secretBinary: optString(b, 'SecretBinary'),
    });
    return { ARN: r.arn, Name: r.name, ...(r.versionId ? { VersionId: r.versionId } : {}) };
  },

  DescribeSecret(store, b) {
    return describeOut(store.describe(secretId(b)));
  },

  UpdateSecret(store, b) {
    const id = secretId(b);
    const meta = store.updateMetadata(id, {
      description: optString(b, 'Description'),
      kmsKeyId: optString(b, 'KmsKeyId'),
    });
    const secretString = optString(b, 'SecretString');
    const secretBinary = optString(b, 'SecretBinary');
    if (secretString === undefined && secretBinary === undefined) return { ARN: meta.arn, Name: meta.name };
    // A new value is a new version with AWSCURRENT, as PutSecretValue makes it.
    const r = store.put(id, { clientRequestToken: optString(b, 'ClientRequestToken'), secretString, secretBinary });
    return { ARN: r.arn, Name: r.name, VersionId: r.versionId };
  },

  ListSecretVersionIds(store, b) {
    const all = store.versions(secretId(b), b.IncludeDeprecated === true);
    const max = typeof b.MaxResults === 'number' && b.MaxResults > 0 ? Math.min(b.MaxResults, 100) : 100;
    const start = decodeToken(optString(b, 'NextToken'));
    const page = all.versions.slice(start, start + max);
    return {
      ARN: all.arn,
      Name: all.name,
      Versions: page.map((v) => ({
        VersionId: v.versionId,
        // A deprecated version (IncludeDeprecated) has no labels, and AWS then leaves the key out.
        ...(v.stages.length > 0 ? { VersionStages: v.stages } : {}),
        CreatedDate: v.created,
        KmsKeyIds: ['DefaultEncryptionKey'],
        ...(v.lastAccessed !== undefined ? { LastAccessedDate: v.lastAccessed } : {}),
      })),
      ...(start + max < all.versions.length ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}),
    };
  },

  UpdateSecretVersionStage(store, b) {
    const r = store.updateVersionStage(secretId(b), {
      versionStage: optString(b, 'VersionStage') ?? '',
      moveToVersionId: optString(b, 'MoveToVersionId'),
      removeFromVersionId: optString(b, 'RemoveFromVersionId'),
    });
    return { ARN: r.arn, Name: r.name };
  },

  DeleteSecret(store, b) {
    const force = b.ForceDeleteWithoutRecovery === true;
    const days = typeof b.RecoveryWindowInDays === 'number' ? b.RecoveryWindowInDays : undefined;
    const r = store.delete(secretId(b), { force, recoveryWindowDays: days });
    return { ARN: r.arn, Name: r.name, DeletionDate: r.deletionDate };
  },

  RestoreSecret(store, b) {
    const r = store.restore(secretId(b));
    return { ARN: r.arn, Name: r.name };
  },

  CancelRotateSecret(store, b) {
    const r = store.cancelRotation(secretId(b));
    return { ARN: r.arn, Name: r.name };
  },

  ListSecrets(store, b) {
    const filters = Array.isArray(b.Filters) ? (b.Filters as { Key?: string; Values?: string[] }[]) : [];
    const names = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values ?? []);
    const all = store.list(names.length > 0 ? names : undefined, b.IncludePlannedDeletion === true);
    const max = typeof b.MaxResults === 'number' && b.MaxResults > 0 ? Math.min(b.MaxResults, 100) : 100;
    const start = decodeToken(optString(b, 'NextToken'));
    const page = all.slice(start, start + max);
    return {
      SecretList: page.map((d) => {
        const { VersionIdsToStages, ...rest } = describeOut(d);
        return { ...rest, SecretVersionsToStages: VersionIdsToStages };
      }),
      ...(start + max < all.length ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}),
    };
  },
};

/** The region a SecretId's ARN names (`arn:aws:secretsmanager:<region>:...`), if it is one. */
export function secretRegion(body: Body): string | undefined {
  const id = body.SecretId;
  if (typeof id !== 'string') return undefined;
  return /^arn:aws[a-zA-Z-]*:secretsmanager:([a-z0-9-]+):/.exec(id)?.[1];
}

function describeOut(d: SecretDescription): Body {
  return dropUndefined({
    ARN: d.arn,
    Name: d.name,
    Description: d.description,
    KmsKeyId: d.kmsKeyId,
    RotationEnabled: d.rotationEnabled,
    RotationLambdaARN: d.rotationLambdaArn,
    RotationRules: d.rotationRules,
    LastRotatedDate: d.lastRotatedDate,
    NextRotationDate: d.nextRotationDate,
    LastChangedDate: d.lastChangedDate,
    LastAccessedDate: d.lastAccessedDate,
    CreatedDate: d.createdDate,
    DeletedDate: d.deletedDate,
    Tags: d.tags.length > 0 ? d.tags : undefined,
    // A secret with no labelled version (created without a value) has no map at all, as AWS answers it.
    VersionIdsToStages: Object.keys(d.versionIdsToStages).length > 0 ? d.versionIdsToStages : undefined,
  });
}

function secretId(b: Body): string {
  const id = b.SecretId;
  if (typeof id !== 'string' || id.length === 0) {
    throw new AwsError('InvalidParameterException', 400, 'SecretId is required: give the secret name or ARN.');
  }
  return id;
}

function optString(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw new AwsError('SerializationException', 400, `${key} must be a string, got ${typeof v}`);
  return v;
}

function optStrings(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new AwsError('SerializationException', 400, `${key} must be a list of strings`);
  }
  return v as string[];
}

type Tag = { Key: string; Value: string };

/**
 * Tags: a list of {Key, Value} strings (Secrets Manager API Reference, "Tag"). Anything else is
 * refused as AWS refuses a body that does not fit its model, and never kept: DescribeSecret would
 * otherwise hand back whatever was sent, however deep.
 */
function optTags(b: Body): Tag[] | undefined {
  const v = b.Tags;
  if (v === undefined || v === null) return undefined;
  const tags = Array.isArray(v) ? v.map(tagOf) : [undefined];
  if (tags.includes(undefined)) {
    throw new AwsError('SerializationException', 400, 'Tags must be a list of {"Key": string, "Value": string}');
  }
  return tags as Tag[];
}

function tagOf(t: unknown): Tag | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const { Key, Value } = t as Body;
  return typeof Key === 'string' && typeof Value === 'string' ? { Key, Value } : undefined;
}

function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  const n = Number(Buffer.from(token, 'base64').toString());
  if (!Number.isInteger(n) || n < 0)
    throw new AwsError('InvalidNextTokenException', 400, 'The NextToken value is invalid.');
  return n;
}

function dropUndefined(o: Body): Body {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
