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

// `-c secondRegion=eu-west-1`: the shop in a second region too (a stack per region, one account), each
// region's orders failing over to the other region's payments.
const secondRegion: unknown = app.node.tryGetContext('secondRegion');
if (secondRegion !== undefined && !(typeof secondRegion === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(secondRegion))) {
  throw new Error(`-c secondRegion must be an AWS region like eu-west-1, got ${JSON.stringify(secondRegion)}`);
}

const account = process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012';
const region = process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
const shop = { release: raw === '1' ? (1 as const) : (2 as const), paymentsFailureRate, paymentsCanary };
new ShopStack(app, 'LambdaMeshShop', { ...shop, fallbackRegion: secondRegion, env: { account, region } });
if (typeof secondRegion === 'string') {
  new ShopStack(app, `LambdaMeshShop-${secondRegion}`, {
    ...shop,
    fallbackRegion: region,
    env: { account, region: secondRegion },
  });
}
