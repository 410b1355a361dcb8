/**
 * Charges an order. Release 2's new version reads PAYMENTS_FAILURE_RATE and PAYMENTS_DELAY_MS, so its
 * canary fails a share of calls and is slower: what `mesh stat` and the dashboard should show.
 */
const FAILURE_RATE = Number(process.env.PAYMENTS_FAILURE_RATE ?? 0);
const DELAY_MS = Number(process.env.PAYMENTS_DELAY_MS ?? 0);
const RELEASE = process.env.DEMO_RELEASE ?? '1';

interface Charge {
  readonly amountCents: number;
  readonly sku?: string;
}

export async function handler(event: Charge): Promise<unknown> {
  if (DELAY_MS > 0) await new Promise((r) => setTimeout(r, DELAY_MS));
  if (Math.random() < FAILURE_RATE) throw new Error(`payments release ${RELEASE}: card processor unavailable`);
  return {
    service: 'payments',
    release: RELEASE,
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    charged: event.amountCents,
  };
}
