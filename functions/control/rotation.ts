/**
 * Secrets Manager's rotation protocol for the mesh CA secret and every identity secret (AWS Secrets Manager User
 * Guide, "Rotation by Lambda function"): createSecret issues the new value as AWSPENDING, setSecret has nothing to
 * push (the secret is the system), testSecret checks the pending value, finishSecret moves AWSCURRENT.
 *
 * What a secret is comes from the deployment (issuer-scope.ts), never from its value. A rotation never
 * touches AWSCURRENT until finishSecret, so a failed one leaves the current identity as it was. It
 * repairs what an earlier failed run left: a pending value that is still good is resumed; one that is
 * stale (past half life, from a CA that moved on; a CA made half a leaf lifetime ago or more) or fails
 * its test loses its AWSPENDING label, so the next rotation starts afresh instead of being refused
 * ("a previous rotation isn't complete").
 */

import { spiffeId } from '../../shared/names';
import { issueIdentity, parseCaSecret, rotateCa } from './ca-issuer';
import { caProblem, identityProblem } from './issued-value-check';
import { type SecretKind, secretKind } from './issuer-scope';
import {
  CURRENT,
  describeSecret,
  dropPending,
  type IssuerDeps,
  PENDING,
  promote,
  putValue,
  readCa,
  readValue,
} from './issuer-secrets';

export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret' | string;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

interface StepContext {
  readonly deps: IssuerDeps;
  readonly id: string;
  readonly name: string;
  readonly token: string;
  readonly kind: SecretKind;
  readonly now: number;
}

export async function rotationStep(event: RotationEvent, deps: IssuerDeps): Promise<void> {
  const { SecretId: id, ClientRequestToken: token } = event;
  const meta = await describeSecret(deps.client, id);
  // Refuses any secret the deployment did not declare, before reading or writing anything of it.
  const kind = secretKind(deps.scope, { arn: meta.ARN, name: meta.Name });
  const name = meta.Name ?? id;
  const stages = meta.VersionIdsToStages ?? {};
  const labels = stages[token];
  if (!labels) throw new Error(`version ${token} is not a version of ${name} being rotated`);
  if (labels.includes(CURRENT)) return; // finished already
  if (!labels.includes(PENDING)) throw new Error(`version ${token} of ${name} is not AWSPENDING; cannot rotate`);
  const ctx: StepContext = { deps, id, name, token, kind, now: deps.now?.() ?? Date.now() };

  switch (event.Step) {
    case 'createSecret':
      return createSecret(ctx);
    case 'setSecret':
      return; // The secret itself is the system: nothing to push.
    case 'testSecret':
      return testSecret(ctx);
    case 'finishSecret':
      return promote(deps.client, id, token, Object.entries(stages).find(([, s]) => s.includes(CURRENT))?.[0]);
    default:
      throw new Error(
        `unknown rotation step ${JSON.stringify(event.Step)}: expected createSecret, setSecret, testSecret or finishSecret`,
      );
  }
}

async function createSecret(ctx: StepContext): Promise<void> {
  const { deps, id, token, kind, now } = ctx;
  const pending = await readValue(deps.client, id, { VersionId: token, VersionStage: PENDING }, true);
  let value: string;
  if (kind.kind === 'ca') {
    const currentText = await readValue(deps.client, id, { VersionStage: CURRENT }, true);
    const current = currentText === undefined ? undefined : parseCaSecret(currentText);
    const timing = { leafLifetimeMs: deps.leafLifetimeMs, overlapMs: deps.caOverlapMs };
    if (pending !== undefined) return resumeOrDrop(ctx, caProblem(pending, now, { builtOn: current, ...timing }));
    value = JSON.stringify(await rotateCa(deps.scope.mesh, current, now, timing));
  } else {
    const ca = await readCa(deps);
    const want = { spiffeId: spiffeId(deps.scope.mesh, kind.service), ca, now };
    if (pending !== undefined) return resumeOrDrop(ctx, identityProblem(pending, want));
    const issued = await issueIdentity({
      mesh: deps.scope.mesh,
      service: kind.service,
      ca,
      now,
      lifetimeMs: deps.leafLifetimeMs,
      caOverlapMs: deps.caOverlapMs,
    });
    value = JSON.stringify(issued);
  }
  await putValue(deps.client, id, token, value, [PENDING]);
}

/** An earlier run of this rotation left a value: go on with it while it is good, else clear the way. */
async function resumeOrDrop(ctx: StepContext, problem: string | undefined): Promise<void> {
  if (problem === undefined) return;
  await dropPending(ctx.deps.client, ctx.id, ctx.token);
  throw new Error(
    `${ctx.name}: the pending value an earlier rotation left is stale (${problem}); removed its AWSPENDING label so the next rotation issues afresh; the current value is untouched`,
  );
}

async function testSecret(ctx: StepContext): Promise<void> {
  const { deps, id, name, token, kind, now } = ctx;
  const pending = await readValue(deps.client, id, { VersionId: token, VersionStage: PENDING }, true);
  if (pending === undefined) {
    // Secrets Manager's own check of the rotation set-up (RotateSecret with RotateImmediately=false) runs
    // testSecret alone on an AWSPENDING version it made: there is nothing to test but our access.
    if (kind.kind === 'identity') await readCa(deps);
    return;
  }
  const problem =
    kind.kind === 'ca'
      ? caProblem(pending, now)
      : identityProblem(pending, {
          spiffeId: spiffeId(deps.scope.mesh, kind.service),
          ca: await readCa(deps),
          now,
          lifeLeft: 'any',
        });
  if (problem === undefined) return;
  await dropPending(deps.client, id, token);
  throw new Error(
    `${name}: the pending value fails its test (${problem}); removed its AWSPENDING label, the current value is untouched`,
  );
}
