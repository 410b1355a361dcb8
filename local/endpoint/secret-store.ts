/**
 * In-memory Secrets Manager state for the local mesh: secrets, their versions and staging labels,
 * with AWS's label rules (AWS Secrets Manager API Reference, "PutSecretValue" and "UpdateSecretVersionStage"):
 * - each label sits on at most one version;
 * - moving AWSCURRENT puts AWSPREVIOUS on the version it left;
 * - PutSecretValue without VersionStages moves AWSCURRENT to the new version; the version it leaves
 *   keeps AWSPREVIOUS and loses AWSPENDING (UpdateSecretVersionStage moving AWSCURRENT leaves AWSPENDING);
 * - the same ClientRequestToken with the same value is a no-op, with another value an error;
 * - RotateSecret only opens the rotation: it runs later (`rotationScheduler`), and while AWSPENDING sits
 *   on a version that is not AWSCURRENT, the next RotateSecret is refused (and that rotation retried);
 * - a secret's rotation rules say when its next rotation falls due (`dueRotations`, NextRotationDate):
 *   its last rotation, or its creation, plus their interval;
 * - DeleteSecret keeps the secret in a recovery window (default 30 days), where its name cannot be
 *   reused; ForceDeleteWithoutRecovery (what CloudFormation uses) frees the name at once.
 *
 * The deployment seeds it from the template, identity issuance writes to it, the endpoint serves it.
 * Secret values are never logged and never part of an error message.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors';
import { nextRotationAt, parseRotationRules, type RotationRule } from './rotation-rules';

export const CURRENT = 'AWSCURRENT';
export const PREVIOUS = 'AWSPREVIOUS';
export const PENDING = 'AWSPENDING';

/** Secrets Manager caps a secret value at 64 KB. */
export const MAX_SECRET_BYTES = 65_536;

export interface SecretValueInput {
  /** Plain text (usually JSON). */
  readonly secretString?: string;
  /** Binary value: bytes, or base64 as it arrives on the wire. */
  readonly secretBinary?: Uint8Array | string;
}

export interface SecretVersionView {
  readonly arn: string;
  readonly name: string;
  readonly versionId: string;
  readonly secretString?: string;
  /** base64, as on the wire. */
  readonly secretBinary?: string;
  readonly versionStages: string[];
  /** epoch seconds */
  readonly createdDate: number;
}

export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  /** Absent until rotation is first turned on: AWS returns null for a secret never configured for rotation. */
  readonly rotationEnabled?: boolean;
  readonly rotationLambdaArn?: string;
  readonly rotationRules?: Record<string, unknown>;
  /** Only while rotation is on, as AWS returns null for a secret whose rotation is off. */
  readonly lastRotatedDate?: number;
  /** When the next scheduled rotation falls due (a `rate()` or AutomaticallyAfterDays schedule, rotation on). */
  readonly nextRotationDate?: number;
  readonly lastChangedDate: number;
  readonly lastAccessedDate?: number;
  readonly createdDate: number;
  /** Set while the secret waits out its recovery window (epoch seconds). */
  readonly deletedDate?: number;
  readonly tags: { Key: string; Value: string }[];
  /** Only versions that carry at least one label, like AWS. */
  readonly versionIdsToStages: Record<string, string[]>;
}

interface Version {
  readonly id: string;
  readonly secretString?: string;
  readonly secretBinary?: string;
  readonly created: number;
  stages: Set<string>;
  /** The day it was last read (AWS keeps the day only). */
  lastAccessed?: number;
  /** A rotation's placeholder: labelled AWSPENDING, no value until the createSecret step puts one. */
  placeholder?: boolean;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  readonly created: number;
  lastChanged: number;
  lastAccessed?: number;
  rotationLambdaArn?: string;
  rotationRules?: Record<string, unknown>;
  /** CancelRotateSecret turned rotation off (RotationEnabled false, no longer absent). */
  rotationCancelled?: boolean;
  lastRotated?: number;
  /** DeleteSecret with a recovery window: the secret is unusable, its name taken, until it ends. */
  deleted?: number;
  readonly versions: Map<string, Version>;
}

export interface SecretStoreOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /**
   * Runs a rotation RotateSecret opened. AWS starts it asynchronously, some time after the call
   * returned; tests hold rotations back to show that nothing at deploy may wait for one.
   * @default one after another, each from a later turn of the event loop (`oneAfterAnother`)
   */
  readonly rotationScheduler?: (run: () => Promise<void>) => void;
  /** The clock of every date the store keeps and of its rotation schedules, ms. @default Date.now */
  readonly now?: () => number;
}

/** A secret whose rotation schedule the store keeps (`dueRotations`). */
export interface ScheduledRotation {
  readonly arn: string;
  readonly name: string;
  readonly rule: RotationRule;
  /** When the rotation falls due, ms (undefined for a schedule the local mesh does not run: cron). */
  readonly dueAt?: number;
}

/**
 * RotateSecret while AWSPENDING sits on a version that is not AWSCURRENT: AWS refuses, and retries the
 * unfinished rotation (that version's token) itself.
 */
export class PreviousRotationIncomplete extends AwsError {
  constructor(
    message: string,
    readonly pendingVersionId: string,
    readonly rotationLambdaArn: string | undefined,
  ) {
    super('InvalidRequestException', 400, message);
  }
}

/**
 * Runs each rotation after the one before it has ended, and never in the turn of the event loop that
 * scheduled it (after the RotateSecret that opened it has answered). AWS runs rotations of different
 * secrets concurrently, each maybe in an execution environment of its own; a deploy of a mesh opens
 * one per secret at once (its CA and every service's identity), and one after another they share a
 * warm environment of the rotation function instead of each starting one (about half a second of
 * CPU time apiece). Nothing may rely on when a rotation runs: AWS promises no time.
 */
export function oneAfterAnother(): (run: () => Promise<void>) => void {
  let last: Promise<void> = Promise.resolve();
  return (run) => {
    last = last
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(run)
      // A rotation reports its own failure (runRotation); the next one runs anyway.
      .catch(() => undefined);
  };
}

const NOT_FOUND = "Secrets Manager can't find the specified secret.";

/** What a secret name may hold (API reference, "CreateSecret": Name). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * A name (or any SecretId that is not an ARN) with other characters is malformed: AWS answers
 * ValidationException before it looks for the secret (recorded AWS responses).
 */
export function checkSecretName(value: string): void {
  if (value.startsWith('arn:') || SECRET_NAME.test(value)) return;
  throw new AwsError(
    'ValidationException',
    400,
    'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
  );
}

export class SecretStore {
  readonly region: string;
  readonly accountId: string;
  private readonly secrets = new Map<string, Secret>();
  private readonly scheduler: (run: () => Promise<void>) => void;
  /** The store's clock, ms. */
  readonly now: () => number;

  constructor(options: SecretStoreOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.scheduler = options.rotationScheduler ?? oneAfterAnother();
    this.now = options.now ?? Date.now;
  }

  /** Hands a rotation to the scheduler: it runs after the RotateSecret that opened it has answered. */
  scheduleRotation(run: () => Promise<void>): void {
    this.scheduler(run);
  }

  /** CreateSecret. A value, if given, becomes the first version with AWSCURRENT. */
  create(
    input: {
      name: string;
      description?: string;
      kmsKeyId?: string;
      tags?: { Key: string; Value: string }[];
      clientRequestToken?: string;
    } & SecretValueInput,
  ): { arn: string; name: string; versionId?: string } {
    const name = input.name;
    if (typeof name !== 'string' || name.startsWith('arn:')) {
      throw new AwsError(
        'ValidationException',
        400,
        `Invalid name ${JSON.stringify(name)}: a secret name is not an ARN.`,
      );
    }
    checkSecretName(name);
    const existing = this.secrets.get(name);
    if (existing?.deleted !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        400,
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      // Idempotent retry of the same create (same token) returns the same secret.
      if (input.clientRequestToken && existing.versions.has(input.clientRequestToken)) {
        return { arn: existing.arn, name, versionId: input.clientRequestToken };
      }
      throw new AwsError(
        'ResourceExistsException',
        400,
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.nowSeconds();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      description: input.description,
      kmsKeyId: input.kmsKeyId,
      tags: input.tags ?? [],
      created: now,
      lastChanged: now,
      versions: new Map(),
    };
    this.secrets.set(name, secret);
    if (input.secretString === undefined && input.secretBinary === undefined) return { arn: secret.arn, name };
    const { versionId } = this.put(name, { ...input, versionStages: [CURRENT] });
    return { arn: secret.arn, name, versionId };
  }

  /** PutSecretValue: a new version; the labels given (default AWSCURRENT) move to it. */
  put(
    secretId: string,
    input: SecretValueInput & { clientRequestToken?: string; versionStages?: string[] },
  ): {
    arn: string;
    name: string;
    versionId: string;
    versionStages: string[];
  } {
    const secret = this.find(secretId);
    const value = checkValue(input);
    const versionId = input.clientRequestToken ?? randomUUID();
    if (!/^[A-Za-z0-9-]{32,64}$/.test(versionId)) {
      throw new AwsError(
        'ValidationException',
        400,
        `ClientRequestToken must be 32-64 letters, digits or hyphens (a UUID), got ${JSON.stringify(versionId)}`,
      );
    }
    const stages = input.versionStages ?? [CURRENT];
    const existing = secret.versions.get(versionId);
    if (existing?.placeholder) {
      // The createSecret step fills the version RotateSecret opened.
      secret.versions.delete(versionId);
    } else if (existing) {
      if (existing.secretString === value.secretString && existing.secretBinary === value.secretBinary) {
        return { arn: secret.arn, name: secret.name, versionId, versionStages: [...existing.stages] };
      }
      throw new AwsError(
        'ResourceExistsException',
        400,
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const version: Version = { id: versionId, ...value, created: this.nowSeconds(), stages: new Set() };
    secret.versions.set(versionId, version);
    const wasCurrent = stages.includes(CURRENT) ? this.versionWithLabel(secret, CURRENT) : undefined;
    for (const stage of stages) this.moveLabel(secret, stage, version);
    // A rotation finished by moving AWSCURRENT leaves AWSPENDING beside it; a new value put over it
    // takes it off, as Secrets Manager does (the version keeps AWSPREVIOUS alone).
    if (wasCurrent && wasCurrent !== version) wasCurrent.stages.delete(PENDING);
    secret.lastChanged = this.nowSeconds();
    return { arn: secret.arn, name: secret.name, versionId, versionStages: [...version.stages] };
  }

  /** GetSecretValue by VersionId and/or VersionStage (default AWSCURRENT). */
  get(secretId: string, select: { versionId?: string; versionStage?: string } = {}): SecretVersionView {
    const secret = this.find(secretId);
    let version: Version | undefined;
    if (select.versionId !== undefined) {
      version = secret.versions.get(select.versionId);
      if (!version)
        throw new AwsError(
          'ResourceNotFoundException',
          400,
          `Secrets Manager can't find the specified secret value for VersionId: ${select.versionId}`,
        );
      if (select.versionStage !== undefined && !version.stages.has(select.versionStage)) {
        throw new AwsError(
          'InvalidRequestException',
          400,
          `You provided a VersionStage that is not associated to the provided VersionId.`,
        );
      }
    } else {
      const stage = select.versionStage ?? CURRENT;
      version = this.versionWithLabel(secret, stage);
      if (!version || version.placeholder)
        throw new AwsError(
          'ResourceNotFoundException',
          400,
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
    }
    if (version.placeholder) {
      throw new AwsError(
        'ResourceNotFoundException',
        400,
        `Secrets Manager can't find the specified secret value for VersionId: ${version.id}`,
      );
    }
    secret.lastAccessed = Math.floor(this.nowSeconds() / 86_400) * 86_400; // AWS keeps the day only
    version.lastAccessed = secret.lastAccessed;
    return {
      arn: secret.arn,
      name: secret.name,
      versionId: version.id,
      ...(version.secretString !== undefined ? { secretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { secretBinary: version.secretBinary } : {}),
      versionStages: [...version.stages],
      createdDate: version.created,
    };
  }

  /** DescribeSecret (answers for a secret in its recovery window too, with DeletedDate). */
  describe(secretId: string): SecretDescription {
    const s = this.find(secretId, true);
    const versionIdsToStages: Record<string, string[]> = {};
    for (const v of s.versions.values()) if (v.stages.size > 0) versionIdsToStages[v.id] = [...v.stages];
    return {
      arn: s.arn,
      name: s.name,
      description: s.description,
      kmsKeyId: s.kmsKeyId,
      rotationEnabled: s.rotationLambdaArn !== undefined ? true : s.rotationCancelled ? false : undefined,
      rotationLambdaArn: s.rotationLambdaArn,
      rotationRules: s.rotationRules,
      ...(s.rotationLambdaArn !== undefined ? this.rotationDates(s) : {}),
      lastChangedDate: s.lastChanged,
      lastAccessedDate: s.lastAccessed,
      createdDate: s.created,
      ...(s.deleted !== undefined ? { deletedDate: s.deleted } : {}),
      tags: s.tags,
      versionIdsToStages,
    };
  }

  /**
   * UpdateSecretVersionStage: move a label (MoveToVersionId) or take it off a version (RemoveFromVersionId).
   * Moving a label that sits on another version needs that version named in RemoveFromVersionId, like AWS.
   */
  updateVersionStage(
    secretId: string,
    input: { versionStage: string; moveToVersionId?: string; removeFromVersionId?: string },
  ): {
    arn: string;
    name: string;
  } {
    const secret = this.find(secretId);
    const { versionStage: stage, moveToVersionId: to, removeFromVersionId: from } = input;
    if (typeof stage !== 'string' || stage.length === 0 || stage.length > 256) {
      throw new AwsError('InvalidParameterException', 400, 'VersionStage must be a label of 1-256 characters.');
    }
    const holder = this.versionWithLabel(secret, stage);
    if (from !== undefined) {
      if (!secret.versions.has(from))
        throw new AwsError(
          'ResourceNotFoundException',
          400,
          `Secrets Manager can't find the specified secret value for VersionId: ${from}`,
        );
      if (holder?.id !== from) {
        throw new AwsError(
          'InvalidParameterException',
          400,
          `The staging label ${stage} is not attached to version ${from}, so it can't be removed from it.`,
        );
      }
    }
    if (to !== undefined) {
      const target = secret.versions.get(to);
      if (!target)
        throw new AwsError(
          'ResourceNotFoundException',
          400,
          `Secrets Manager can't find the specified secret value for VersionId: ${to}`,
        );
      if (holder && holder !== target && from !== holder.id) {
        throw new AwsError(
          'InvalidParameterException',
          400,
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.moveLabel(secret, stage, target);
    } else if (from !== undefined) {
      if (stage === CURRENT) {
        throw new AwsError(
          'InvalidParameterException',
          400,
          'You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.',
        );
      }
      holder?.stages.delete(stage);
    } else {
      throw new AwsError('InvalidParameterException', 400, 'Specify MoveToVersionId, RemoveFromVersionId or both.');
    }
    secret.lastChanged = this.nowSeconds();
    return { arn: secret.arn, name: secret.name };
  }

  /**
   * ListSecrets, sorted by name; `nameFilter` keeps names that start with one of the values. Secrets in
   * their recovery window only with `includePlannedDeletion`, like AWS.
   */
  list(nameFilter?: string[], includePlannedDeletion = false): SecretDescription[] {
    return [...this.secrets.values()]
      .filter((s) => includePlannedDeletion || s.deleted === undefined)
      .filter((s) => !nameFilter || nameFilter.some((p) => s.name.startsWith(p)))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => this.describe(s.name));
  }

  /**
   * RotateSecret's bookkeeping: records the rotation function and rules, and (when `token` is given)
   * opens the new version as AWS does before the first step: a placeholder with AWSPENDING and no
   * value, so the rotation function's DescribeSecret finds the token. Refuses while a previous
   * rotation is unfinished (AWSPENDING on a version that is not AWSCURRENT).
   */
  beginRotation(
    secretId: string,
    input: { rotationLambdaArn?: string; rotationRules?: Record<string, unknown>; token?: string },
  ): {
    arn: string;
    name: string;
    rotationLambdaArn: string;
  } {
    const s = this.find(secretId);
    if (input.rotationRules) parseRotationRules(input.rotationRules); // refused before anything changes
    const lambdaArn = input.rotationLambdaArn ?? s.rotationLambdaArn;
    if (!lambdaArn) {
      throw new AwsError(
        'InvalidRequestException',
        400,
        'No Lambda rotation function ARN is associated with this secret.',
      );
    }
    if (input.token !== undefined) {
      const pending = this.versionWithLabel(s, PENDING);
      if (pending && !pending.stages.has(CURRENT) && pending.id !== input.token) {
        throw new PreviousRotationIncomplete(
          "A previous rotation isn't complete. That rotation will be reattempted.",
          pending.id,
          s.rotationLambdaArn,
        );
      }
      if (!s.versions.has(input.token)) {
        const placeholder: Version = {
          id: input.token,
          created: this.nowSeconds(),
          stages: new Set(),
          placeholder: true,
        };
        s.versions.set(input.token, placeholder);
        this.moveLabel(s, PENDING, placeholder);
      }
    }
    s.rotationLambdaArn = lambdaArn;
    if (input.rotationRules) s.rotationRules = input.rotationRules;
    return { arn: s.arn, name: s.name, rotationLambdaArn: lambdaArn };
  }

  /**
   * Marks a finished rotation (LastRotatedDate). Secrets Manager then takes AWSPENDING off the version
   * the rotation made current (recorded AWS responses: after a rotation the new version carries
   * AWSCURRENT alone), so a later PutSecretValue leaves no stale AWSPENDING and the next RotateSecret runs.
   */
  markRotated(secretId: string, token?: string): void {
    const s = this.find(secretId);
    s.lastRotated = this.nowSeconds();
    const v = token === undefined ? undefined : s.versions.get(token);
    if (v?.stages.has(CURRENT)) v.stages.delete(PENDING);
  }

  /** ListSecretVersionIds: versions in creation order; versions with no label only with `includeDeprecated`. */
  versions(
    secretId: string,
    includeDeprecated = false,
  ): {
    arn: string;
    name: string;
    versions: { versionId: string; stages: string[]; created: number; lastAccessed?: number }[];
  } {
    const s = this.find(secretId);
    const versions = [...s.versions.values()]
      .filter((v) => includeDeprecated || v.stages.size > 0)
      .sort((a, b) => a.created - b.created)
      .map((v) => ({
        versionId: v.id,
        stages: [...v.stages],
        created: v.created,
        ...(v.lastAccessed !== undefined ? { lastAccessed: v.lastAccessed } : {}),
      }));
    return { arn: s.arn, name: s.name, versions };
  }

  /** UpdateSecret's description and KMS key (its value goes through `put`). */
  updateMetadata(secretId: string, input: { description?: string; kmsKeyId?: string }): { arn: string; name: string } {
    const s = this.find(secretId);
    if (input.description !== undefined) s.description = input.description;
    if (input.kmsKeyId !== undefined) s.kmsKeyId = input.kmsKeyId;
    s.lastChanged = this.nowSeconds();
    return { arn: s.arn, name: s.name };
  }

  /**
   * Ends the check RotateSecret with RotateImmediately=false runs (testSecret alone on a new AWSPENDING
   * version): the version it opened goes again, as AWS removes it.
   */
  endRotationTest(secretId: string, token: string): void {
    const s = this.lookup(secretId);
    const v = s?.versions.get(token);
    if (!s || !v) return;
    v.stages.delete(PENDING);
    if (v.placeholder && v.stages.size === 0) s.versions.delete(token);
  }

  /** CancelRotateSecret: rotation off (an unfinished rotation's labels stay, as AWS leaves them). */
  cancelRotation(secretId: string): { arn: string; name: string } {
    const s = this.find(secretId);
    s.rotationLambdaArn = undefined;
    s.rotationRules = undefined;
    s.rotationCancelled = true;
    return { arn: s.arn, name: s.name };
  }

  /**
   * DeleteSecret: with `force` (ForceDeleteWithoutRecovery, what CloudFormation does) the secret and its
   * name are gone at once; otherwise it waits out a recovery window of 7-30 days (default 30), unusable,
   * its name still taken; deleting it again without `force` is refused (InvalidRequestException). Forcing
   * an already deleted or missing secret is not an error, like AWS.
   */
  delete(
    secretId: string,
    input: { force?: boolean; recoveryWindowDays?: number } = {},
  ): { arn: string; name: string; deletionDate: number } {
    if (input.force && input.recoveryWindowDays !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        400,
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    const days = input.recoveryWindowDays ?? 30;
    if (!input.force && !(Number.isInteger(days) && days >= 7 && days <= 30)) {
      throw new AwsError('InvalidParameterException', 400, `RecoveryWindowInDays must be 7 to 30, got ${days}.`);
    }
    // A secret already in its recovery window is refused unless forced, as any call Secrets Manager
    // does not allow then: its deletion date stays the first one.
    const s = input.force ? this.lookup(secretId, true) : this.find(secretId);
    if (!s) return { arn: String(secretId), name: String(secretId), deletionDate: this.nowSeconds() };
    if (input.force) {
      this.secrets.delete(s.name);
      return { arn: s.arn, name: s.name, deletionDate: this.nowSeconds() };
    }
    s.deleted = this.nowSeconds();
    return { arn: s.arn, name: s.name, deletionDate: s.deleted + days * 86_400 };
  }

  /** RestoreSecret: ends a recovery window; the secret is usable again. */
  restore(secretId: string): { arn: string; name: string } {
    const s = this.find(secretId, true);
    s.deleted = undefined;
    return { arn: s.arn, name: s.name };
  }

  /** Seeding shortcut: creates the secret or puts a new AWSCURRENT version. Returns the secret's ARN. */
  set(name: string, value: SecretValueInput): string {
    if (this.secrets.has(name)) this.put(name, value);
    else this.create({ name, ...value });
    return this.find(name).arn;
  }

  /** True when a usable secret with this id (name, ARN or partial ARN) exists (not one in its recovery window). */
  has(secretId: string): boolean {
    return this.lookup(secretId) !== undefined;
  }

  /**
   * The secrets whose rotation is on with a schedule (deleted ones aside), and when each falls due: the
   * last rotation, or the secret's creation when it never rotated, plus the schedule's interval.
   */
  dueRotations(): ScheduledRotation[] {
    const out: ScheduledRotation[] = [];
    for (const s of this.secrets.values()) {
      const rule = s.rotationLambdaArn !== undefined && s.deleted === undefined ? ruleOf(s) : undefined;
      if (rule) out.push({ arn: s.arn, name: s.name, rule, dueAt: nextRotationAt(rule, baseOf(s) * 1000) });
    }
    return out;
  }

  /** Now on the store's clock, epoch seconds (ms precision), as dates go on the wire. */
  private nowSeconds(): number {
    return Math.floor(this.now()) / 1000;
  }

  /** LastRotatedDate and NextRotationDate of a secret whose rotation is on. */
  private rotationDates(s: Secret): { lastRotatedDate?: number; nextRotationDate?: number } {
    const rule = ruleOf(s);
    const next = rule && nextRotationAt(rule, baseOf(s) * 1000);
    return { lastRotatedDate: s.lastRotated, ...(next !== undefined ? { nextRotationDate: next / 1000 } : {}) };
  }

  /** The secret; one in its recovery window only for the calls AWS allows then (describe, delete, restore). */
  private find(secretId: string, deletedOk = false): Secret {
    const s = this.lookup(secretId, true);
    if (!s) throw new AwsError('ResourceNotFoundException', 400, NOT_FOUND);
    if (s.deleted !== undefined && !deletedOk) {
      throw new AwsError(
        'InvalidRequestException',
        400,
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return s;
  }

  /** Name, full ARN (with the 6-character suffix) or partial ARN (without it). */
  private lookup(secretId: string, deletedOk = false): Secret | undefined {
    const s = this.lookupAny(secretId);
    return s && (deletedOk || s.deleted === undefined) ? s : undefined;
  }

  private lookupAny(secretId: string): Secret | undefined {
    if (typeof secretId !== 'string' || secretId.length === 0) {
      throw new AwsError('InvalidParameterException', 400, 'SecretId is required: give the secret name or ARN.');
    }
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    if (!secretId.startsWith('arn:')) return undefined;
    for (const s of this.secrets.values()) {
      if (s.arn === secretId || s.arn.slice(0, -7) === secretId) return s;
    }
    return undefined;
  }

  private versionWithLabel(secret: Secret, stage: string): Version | undefined {
    for (const v of secret.versions.values()) if (v.stages.has(stage)) return v;
    return undefined;
  }

  /** Puts `stage` on `target`, taking it off its holder; AWSCURRENT leaves AWSPREVIOUS behind. */
  private moveLabel(secret: Secret, stage: string, target: Version): void {
    const holder = this.versionWithLabel(secret, stage);
    if (holder === target) return;
    holder?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === CURRENT && holder) {
      this.versionWithLabel(secret, PREVIOUS)?.stages.delete(PREVIOUS);
      holder.stages.add(PREVIOUS);
    }
  }
}

function checkValue(input: SecretValueInput): { secretString?: string; secretBinary?: string } {
  const hasString = input.secretString !== undefined && input.secretString !== null;
  const hasBinary = input.secretBinary !== undefined && input.secretBinary !== null;
  if (hasString === hasBinary) {
    throw new AwsError(
      'InvalidParameterException',
      400,
      'You must provide either SecretString or SecretBinary, not both.',
    );
  }
  if (hasString) {
    if (typeof input.secretString !== 'string')
      throw new AwsError('ValidationException', 400, 'SecretString must be a string.');
    if (Buffer.byteLength(input.secretString) > MAX_SECRET_BYTES) {
      throw new AwsError(
        'ValidationException',
        400,
        `1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
      );
    }
    return { secretString: input.secretString };
  }
  const b = input.secretBinary!;
  const bytes = typeof b === 'string' ? Buffer.from(b, 'base64') : Buffer.from(b);
  if (bytes.length > MAX_SECRET_BYTES) {
    throw new AwsError(
      'ValidationException',
      400,
      `1 validation error detected: Value at 'secretBinary' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
    );
  }
  return { secretBinary: bytes.toString('base64') };
}

/** The schedule of a secret's rules (beginRotation refused any that does not parse). */
function ruleOf(s: Secret): RotationRule | undefined {
  return s.rotationRules ? parseRotationRules(s.rotationRules) : undefined;
}

/** What the next rotation counts from, epoch seconds: the last rotation, else the secret's creation. */
function baseOf(s: Secret): number {
  return s.lastRotated ?? s.created;
}

function randomSuffix(): string {
  return randomBytes(6)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 6);
}
