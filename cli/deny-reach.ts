/**
 * Pure: what a deny of `from -> to` does not cover, for the note `mesh policy deny` prints. A callee
 * reads only its own region's table, and a deny names one service: the edge's fallbacks (its allow
 * item's and the service's traffic item's) may lead a caller whose runtime no longer obeys the mesh,
 * the usual reason for a deny, to another region's copy or to another service, each of which lets it
 * in by its own allow item. A caller that obeys is never failed over after a refusal.
 */
import { SORT_KEY } from '../shared/names';
import type { AwsFlags } from './args';
import { commandWith } from './pasteable-command';
import type { RawItem } from './policy-plan';

/** The region of a Lambda function ARN (`arn:<partition>:lambda:<region>:...`). */
const arnRegion = (arn: string): string | undefined => arn.split(':')[3];

export function denyReach(
  items: readonly RawItem[],
  edge: { readonly from: string; readonly to: string },
  region: string,
  flags: Pick<AwsFlags, 'mesh' | 'region' | 'endpointUrl'>,
): string[] {
  const { from, to } = edge;
  const notes: string[] = [];
  for (const sk of [SORT_KEY.allow(from), SORT_KEY.traffic]) {
    const fallback = items.find((i) => i.pk === to && i.sk === sk)?.fallback as
      | { functionArn?: unknown; service?: unknown }
      | undefined;
    const arn = typeof fallback?.functionArn === 'string' ? fallback.functionArn : undefined;
    const other = arn === undefined ? undefined : arnRegion(arn);
    if (arn !== undefined && other !== undefined && other !== region) {
      notes.push(
        `${to}/${sk} fails over to ${arn}: this deny holds in ${region} only; ` +
          `write it in ${other} too: \`${commandWith({ ...flags, region: other })('mesh', `policy deny ${from} ${to}`)}\``,
      );
    }
    if (typeof fallback?.service === 'string' && fallback.service !== to) {
      notes.push(
        `${to}/${sk} falls back to ${fallback.service}, which ${from} may still call by its own allow item; ` +
          `if it must not: \`${commandWith(flags)('mesh', `policy deny ${from} ${fallback.service}`)}\``,
      );
    }
  }
  return notes;
}
