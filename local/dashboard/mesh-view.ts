/**
 * What the local mesh's registry says beside its telemetry: each service's `live` alias as configured
 * (what `mesh shift` / `mesh rollout` or a gated deploy set, visible before any traffic shows it) and
 * which functions are the mesh's own control functions (their traces are left out of the app's).
 */
import { ENV, LIVE_ALIAS } from '../../shared/names';
import { functionsOutsideMeshes } from '../../shared/telemetry/control-traces';
import type { AliasRow } from '../live-view';
import type { FunctionRegistry } from '../registry/function-registry';

export interface MeshView {
  /** Each mesh service's `live` alias, by service name. */
  liveAliases(): AliasRow[];
  /** The functions that serve no mesh service. */
  controlFunctions(): ReadonlySet<string>;
}

export function registryView(registry: FunctionRegistry): MeshView {
  return {
    liveAliases: () =>
      registry.listFunctions().flatMap((f) => {
        const service = f.Environment?.Variables?.[ENV.service];
        const alias = service ? registry.getAlias(f.FunctionName, LIVE_ALIAS) : undefined;
        if (!service || !alias) return [];
        return [
          {
            service,
            stable: alias.FunctionVersion,
            weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) },
          },
        ];
      }),
    controlFunctions: () => functionsOutsideMeshes(registry.listFunctions()),
  };
}
