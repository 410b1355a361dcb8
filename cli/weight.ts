/**
 * Canary weights: the operator speaks percent (0-100), Lambda's alias RoutingConfig speaks a
 * fraction (0-1) per additional version.
 */
import { UsageError } from './errors';

const PERCENT = /^(\d{1,3})(\.\d{1,4})?%?$/;

/** Parses an operator's weight, `10`, `12.5` or `10%`, into percent; rejects anything else. */
export function parseWeightPercent(raw: string): number {
  const m = PERCENT.exec(raw.trim());
  const pct = m ? Number(raw.trim().replace(/%$/, '')) : NaN;
  if (!m || !Number.isFinite(pct) || pct < 0 || pct > 100) {
    throw new UsageError(
      `weight ${JSON.stringify(raw)} is not a percentage between 0 and 100; give the canary's share, e.g. \`mesh shift payments 10\``,
    );
  }
  return pct;
}

/** Percent -> Lambda's fraction, without float noise (12.5 -> 0.125, 7 -> 0.07). */
export function percentToWeight(pct: number): number {
  return Math.round(pct * 1e4) / 1e6;
}

/** Lambda's fraction -> percent for display (0.1 -> 10). */
export function weightToPercent(weight: number): number {
  return Math.round(weight * 1e6) / 1e4;
}
