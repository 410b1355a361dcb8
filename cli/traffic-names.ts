/**
 * The names a call of the mesh can carry as its source or destination: the services, the channels
 * and HTTP targets they declare, and the callers that are no service (`external`, `unknown`, the
 * pre-traffic check). `mesh stat --service` and `mesh tap`'s filters check theirs against these, so a
 * typo is named as one instead of showing an empty window, or a stream that stays empty until Ctrl-C.
 * Pure.
 */

import { didYouMean } from '../shared/suggest';
import { CALLER_NAMES } from '../shared/telemetry/callers';
import { UsageError } from './errors';
import type { DiscoveredMesh } from './mesh-discovery';

/** Every name a call of `mesh` can come from or go to, sorted. */
export function trafficNames(mesh: DiscoveredMesh): string[] {
  const names = new Set<string>(CALLER_NAMES);
  for (const s of mesh.services) {
    names.add(s.service);
    for (const n of [...(s.channels?.out ?? []), ...(s.channels?.in ?? []), ...(s.httpTargets ?? [])]) names.add(n);
  }
  return [...names].sort();
}

/**
 * Refuses `name` (given with `flag`, or as the command's service when `flag` is undefined) when no call
 * of `mesh` can carry it, naming the closest and the known ones, as an unknown service is named elsewhere.
 */
export function checkTrafficName(mesh: DiscoveredMesh, flag: string | undefined, name: string): void {
  const known = trafficNames(mesh);
  if (known.includes(name)) return;
  throw new UsageError(
    `unknown service ${JSON.stringify(name)}${didYouMean(name, known)}${flag ? ` for ${flag}` : ''} in mesh ${mesh.name}; known services, channels and callers: ${known.join(', ')} (see \`mesh status\`)`,
  );
}
