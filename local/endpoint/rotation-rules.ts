/**
 * A secret's rotation rules (RotationRulesType, Secrets Manager API Reference) as the local schedule
 * reads them: how long after the last rotation the next one falls due. `AutomaticallyAfterDays` (1 to
 * 1,000) and `rate(<n> hours)` / `rate(<n> days)` (every four hours at most, 999 days at most: "Rotation
 * schedules", AWS Secrets Manager User Guide) are run; a `cron(...)` expression is kept but not run.
 * Anything else is refused before RotateSecret changes the secret, naming the value and what to give.
 */
import { AwsError } from './errors';

export type RotationRule =
  | { readonly kind: 'rate'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly expression: string };

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const RATE = /^rate\((\d+) (hours?|days?)\)$/;
const CRON = /^cron\(\S+( \S+){5}\)$/;

/** The schedule the rules give, if any; throws InvalidParameterException for rules AWS would refuse. */
export function parseRotationRules(rules: Record<string, unknown>): RotationRule | undefined {
  const { AutomaticallyAfterDays: days, ScheduleExpression: expression, Duration: window } = rules;
  if (days !== undefined && expression !== undefined) {
    throw invalid(
      `RotationRules has both AutomaticallyAfterDays (${JSON.stringify(days)}) and ScheduleExpression (${JSON.stringify(expression)}): give one of them.`,
    );
  }
  if (window !== undefined) checkWindow(window);
  if (days !== undefined) return { kind: 'rate', everyMs: afterDays(days) * DAY_MS };
  if (expression === undefined) return undefined;
  if (typeof expression === 'string' && CRON.test(expression)) return { kind: 'cron', expression };
  return { kind: 'rate', everyMs: rateMs(expression) };
}

/** When a rotation on `rule` falls due after `base` (the last rotation, or the secret's creation), ms. */
export function nextRotationAt(rule: RotationRule, base: number): number | undefined {
  return rule.kind === 'rate' ? base + rule.everyMs : undefined;
}

function afterDays(days: unknown): number {
  if (typeof days === 'number' && Number.isInteger(days) && days >= 1 && days <= 1000) return days;
  throw invalid(`AutomaticallyAfterDays must be a whole number of days from 1 to 1000, got ${JSON.stringify(days)}.`);
}

function rateMs(expression: unknown): number {
  const m = typeof expression === 'string' ? RATE.exec(expression) : null;
  const ms = m ? Number(m[1]) * (m[2]!.startsWith('hour') ? HOUR_MS : DAY_MS) : 0;
  if (ms >= 4 * HOUR_MS && ms <= 999 * DAY_MS) return ms;
  throw invalid(
    `ScheduleExpression ${JSON.stringify(expression)} is not a rotation schedule: give rate(<n> hours) (4 or more), ` +
      'rate(<n> days) (999 at most) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>).',
  );
}

/**
 * Duration: the rotation window, `<n>h` from 1 to 24 hours. Checked only: the local schedule rotates
 * the moment a rotation falls due, with no window.
 */
function checkWindow(window: unknown): void {
  const hours = typeof window === 'string' && /^\d{1,2}h$/.test(window) ? Number(window.slice(0, -1)) : 0;
  if (hours < 1 || hours > 24) {
    throw invalid(`Duration ${JSON.stringify(window)} is not a rotation window: give hours from 1h to 24h, e.g. "3h".`);
  }
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', 400, message);
}
