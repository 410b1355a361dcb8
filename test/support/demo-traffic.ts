/**
 * The example shop's checkout traffic (local/traffic.ts) in a test: started at a rate, and handed back
 * once calls succeed (every loop joined, the workers warm), so what the test times starts from there.
 */
import { startTraffic, type Traffic } from '../../local/traffic';

/** `loops`: at most this many checkouts at once. */
export async function flowingCheckouts(url: string, rps: number, loops = 3): Promise<Traffic> {
  const t = startTraffic({
    url,
    plan: [{ label: 'checkout', functionName: 'shop-frontend', payload: {}, weight: 1 }],
    rps,
    concurrency: loops,
  });
  for (let i = 0; i < 300 && (t.counters.checkout?.ok ?? 0) < 40; i++) await new Promise((r) => setTimeout(r, 100));
  return t;
}
