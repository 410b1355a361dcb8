/**
 * The example app, run by cdk.json: `npx cdk synth [-c release=1|2]`. Synth is offline: the account
 * and region are placeholders unless the CLI found real ones, and nothing is looked up.
 */
import { App } from 'aws-cdk-lib';
import { ShopStack } from './shop-stack';

const app = new App();
const raw = String(app.node.tryGetContext('release') ?? '2');
if (raw !== '1' && raw !== '2') throw new Error(`-c release must be 1 or 2, got ${JSON.stringify(raw)}`);

// Test-only: `-c paymentsFailureRate=0` makes release 2's canary healthy (default 0.2).
const rawRate = app.node.tryGetContext('paymentsFailureRate');
const paymentsFailureRate = rawRate === undefined ? undefined : Number(rawRate);
if (paymentsFailureRate !== undefined && !(paymentsFailureRate >= 0 && paymentsFailureRate <= 1)) {
  throw new Error(`-c paymentsFailureRate must be a number from 0 to 1, got ${JSON.stringify(rawRate)}`);
}

// `-c paymentsCanary=pinned`: release 2's payments as a pinned split for `mesh rollout` (default gated).
const paymentsCanary = app.node.tryGetContext('paymentsCanary') ?? 'gated';
if (paymentsCanary !== 'gated' && paymentsCanary !== 'pinned') {
  throw new Error(`-c paymentsCanary must be gated or pinned, got ${JSON.stringify(paymentsCanary)}`);
}

new ShopStack(app, 'LambdaMeshShop', {
  release: raw === '1' ? 1 : 2,
  paymentsFailureRate,
  paymentsCanary,
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012',
    region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
