/**
 * The callers an edge can come from that are no mesh service: callers outside the mesh, unverified
 * ones, and the pre-traffic check of gated deployments. Each is a source of edges and never a
 * destination, so a view that draws every source as a service would show it idle ("no inbound
 * traffic") or broken. `mesh stat`, `mesh status` and the local dashboard name them from here. Pure.
 */
import { DEPLOYMENT, EXTERNAL, UNKNOWN_SOURCE } from '../names';

/** A caller that is no service, and what it is. */
export interface CallerNote {
  readonly name: string;
  readonly role: 'outside' | 'unverified' | 'deploy-check';
  /** A few words, for a node of the graph. */
  readonly label: string;
  /** One sentence, for a note under a table. */
  readonly about: string;
}

const NOTES: readonly CallerNote[] = [
  {
    name: EXTERNAL,
    role: 'outside',
    label: 'callers outside the mesh',
    about: 'callers outside the mesh (a plain Invoke, API Gateway, a queue), as the callee counts them',
  },
  {
    name: UNKNOWN_SOURCE,
    role: 'unverified',
    label: 'unverified callers',
    about: 'callers whose identity did not verify, every call refused',
  },
  {
    name: DEPLOYMENT.checkSource,
    role: 'deploy-check',
    label: 'pre-traffic check',
    about:
      'the pre-traffic check of gated deployments, no service: it calls each new version once before CodeDeploy shifts traffic to it',
  },
];

/** What `source` is when it is no service; undefined for a service. */
export function callerNote(source: string): CallerNote | undefined {
  return NOTES.find((n) => n.name === source);
}

/** The notes of those of `sources` that are no service, each once, in a fixed order. */
export function callerNotes(sources: Iterable<string>): CallerNote[] {
  const seen = new Set(sources);
  return NOTES.filter((n) => seen.has(n.name));
}

/** The names of the callers that are no service. */
export const CALLER_NAMES: readonly string[] = NOTES.map((n) => n.name);
