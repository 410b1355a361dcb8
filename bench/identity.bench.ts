/**
 * Identity cost per hop: the caller's sign and the callee's verify of one token (1 KB payload), next to
 * the same hop without identity (metadata JSON + base64, which every hop pays anyway). Budget: sign +
 * verify <= 0.3 ms at p50. Also a callee's first token from a new caller certificate (chain check) and
 * the one-time secret parse. Run: npx tsx bench/identity.bench.ts [--json]
 * Rows: { name, unit, n, mesh, baseline, budget?, note? } like bench/runtime.bench.ts (baseline = no identity).
 */
import { issueIdentity, rotateCa } from '../functions/control/ca-issuer';
import { Identity, TrustBundle } from '../functions/mesh/identity';
import { type BenchResult, besideInProcess, now, runBenchScript, stats, timeEach } from './support/bench-rows';

/** The budget sign + verify must meet at p50, in ms. */
export const IDENTITY_HOP_BUDGET_MS = 0.3;

function measure(n: number, fn: (i: number) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    fn(i);
    out.push(now() - t);
  }
  return out;
}

/** Two services' identities from one CA, a 1 KB payload, and the plain hop every call pays anyway. */
interface IdentityHop {
  readonly ordersSecret: string;
  readonly orders: Identity;
  readonly payments: Identity;
  readonly payload: Buffer;
  /** The same hop without identity: metadata JSON + base64. */
  readonly plainHop: () => string;
}

const N = 5000;

export async function runIdentityBench(): Promise<BenchResult[]> {
  const hop = await identityHop();
  const { orders, payments, payload } = hop;
  for (let i = 0; i < 500; i++)
    payments.verify({ token: orders.sign({ target: 'payments', payload }), source: 'orders', payload });
  const base = measure(N, hop.plainHop);
  return [...signAndVerifyRows(hop, base), hopRow(hop), firstTokenRow(hop, base), await loadRow(hop)];
}

async function identityHop(): Promise<IdentityHop> {
  const ca = await rotateCa('shop', undefined);
  const ordersSecret = JSON.stringify(await issueIdentity({ mesh: 'shop', service: 'orders', ca }));
  return {
    ordersSecret,
    orders: await Identity.create({ read: async () => ordersSecret }),
    payments: await Identity.create({
      read: async () => JSON.stringify(await issueIdentity({ mesh: 'shop', service: 'payments', ca })),
    }),
    payload: Buffer.from(JSON.stringify({ order: 'o-1', items: 'x'.repeat(1000) })),
    plainHop: () =>
      Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'orders', att: 1 } } })).toString('base64'),
  };
}

function signAndVerifyRows({ orders, payments, payload }: IdentityHop, base: number[]): BenchResult[] {
  const sign = {
    name: 'identity sign',
    unit: 'ms',
    n: N,
    mesh: stats(measure(N, () => orders.sign({ target: 'payments', payload }))),
    baseline: stats(base),
  };
  const tokens = Array.from({ length: N }, () => orders.sign({ target: 'payments', payload }));
  const verify = {
    name: 'identity verify',
    unit: 'ms',
    n: N,
    mesh: stats(measure(N, (i) => payments.verify({ token: tokens[i], source: 'orders', payload }))),
    baseline: stats(base),
  };
  return [sign, verify];
}

/** The whole hop: caller sign, ClientContext encode/decode, callee verify; against the plain hop's decode. */
function hopRow({ orders, payments, payload, plainHop }: IdentityHop): BenchResult {
  const hop = measure(N, () => {
    const token = orders.sign({ target: 'payments', payload });
    const ctx = Buffer.from(JSON.stringify({ custom: { mesh: { v: 1, src: 'orders', att: 1, tok: token } } })).toString(
      'base64',
    );
    const meta = JSON.parse(Buffer.from(ctx, 'base64').toString()).custom.mesh;
    if (!payments.verify({ token: meta.tok, source: meta.src, payload }).ok) throw new Error('bench token refused');
  });
  const plain = measure(N, () => JSON.parse(Buffer.from(plainHop(), 'base64').toString()));
  return {
    name: 'identity sign+verify per hop',
    unit: 'ms',
    n: N,
    mesh: stats(hop),
    baseline: stats(plain),
    budget: { of: 'added-p50', max: IDENTITY_HOP_BUDGET_MS },
    note: 'caller sign + ClientContext encode/decode + callee verify (warm certificate cache), 1 KB payload',
  };
}

/** A new caller certificate: parse + chain check once per certificate per callee instance. */
function firstTokenRow({ orders, payments, payload }: IdentityHop, base: number[]): BenchResult {
  const certPart = orders.sign({ target: 'payments', payload }).split('.')[2]!;
  const pems = payments.trust.pems;
  return {
    name: 'identity first token of a cert',
    unit: 'ms',
    n: 500,
    mesh: stats(measure(500, () => new TrustBundle(pems).checkLeaf(certPart))),
    baseline: stats(base.slice(0, 500)),
  };
}

async function loadRow({ ordersSecret }: IdentityHop): Promise<BenchResult> {
  const loads = await timeEach(100, () => Identity.create({ read: async () => ordersSecret }));
  return {
    name: 'identity load (parse secret)',
    unit: 'ms',
    n: loads.length,
    mesh: stats(loads),
    baseline: stats([0]),
  };
}

if (require.main === module) {
  runBenchScript(
    runIdentityBench,
    (r) => besideInProcess(r, 32, 3),
    (rows) => {
      const hop = rows.find((r) => r.name === 'identity sign+verify per hop')!;
      const added = hop.mesh.p50 - hop.baseline.p50;
      return `identity budget: ${added.toFixed(3)} ms added per hop at p50 (budget ${IDENTITY_HOP_BUDGET_MS} ms) ${added <= IDENTITY_HOP_BUDGET_MS ? 'OK' : 'OVER'}`;
    },
  );
}
