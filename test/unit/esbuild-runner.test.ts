/**
 * When a MeshFunction refuses to bundle because the app's package manager cannot run esbuild: a pnpm
 * app whose `pnpm exec` finds none, while aws-cdk-lib, finding one, bundles locally.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EsbuildRunnerFacts, esbuildRunnerProblem } from '../../infra/private/esbuild-runner';

const PNPM: EsbuildRunnerFacts = {
  lockFile: '/app/pnpm-lock.yaml',
  projectRoot: '/app',
  detectedVersion: '0.28.2',
  runnable: false,
};

describe('esbuild runner: the package manager that runs esbuild for NodejsFunction', () => {
  it('refuses a pnpm app whose pnpm exec finds no esbuild, naming the lock file, the folder and the fix', () => {
    assert.equal(
      esbuildRunnerProblem(PNPM),
      "the app installs with pnpm (/app/pnpm-lock.yaml), so NodejsFunction bundles with `pnpm exec -- esbuild` in /app, which runs the app's own dependencies only, and esbuild is a dependency of lambda-mesh, not of the app; add it to the app: `pnpm add -D esbuild@0.28.2`",
    );
  });

  it('leaves alone what bundles: esbuild found, npm or yarn (which hoist it), Docker, no local esbuild (Docker too)', () => {
    assert.equal(esbuildRunnerProblem({ ...PNPM, runnable: true }), undefined);
    assert.equal(esbuildRunnerProblem({ ...PNPM, lockFile: '/app/package-lock.json' }), undefined);
    assert.equal(esbuildRunnerProblem({ ...PNPM, lockFile: '/app/yarn.lock' }), undefined);
    assert.equal(esbuildRunnerProblem({ ...PNPM, forceDocker: true }), undefined);
    assert.equal(esbuildRunnerProblem({ ...PNPM, detectedVersion: undefined }), undefined);
    assert.equal(esbuildRunnerProblem({ ...PNPM, lockFile: undefined }), undefined);
  });
});
