/**
 * What the local mesh's registry says beside its telemetry: each service's `live` alias as configured
 * (what `mesh shift` / `mesh rollout` or a gated deploy set, visible before any traffic shows it),
 * which functions are the mesh's own control functions (their traces are left out of the app's), and
 * who may call whom as the services' policy tables say (a deny shows before any call is refused).
 */
import { ENV, LIVE_ALIAS } from '../../shared/names';
import { type EdgeSummary, policyEdges } from '../../shared/policy-edges';
import { functionsOutsideMeshes } from '../../shared/telemetry/control-traces';
import type { AliasRow } from '../live-view';
import type { FunctionRegistry } from '../registry/function-registry';
import type { PolicyScan } from './policy-scan';

export interface MeshView {
  /** Each mesh service's `live` alias, by service name. */
  liveAliases(): AliasRow[];
  /** The functions that serve no mesh service. */
  controlFunctions(): ReadonlySet<string>;
  /** The allow and deny items of the mesh services' policy tables, as edges. */
  policyEdges(): Promise<EdgeSummary[]>;
}

export function registryView(registry: FunctionRegistry, scan: PolicyScan): MeshView {
  return {
    liveAliases: () => liveAliases(registry),
    controlFunctions: () => functionsOutsideMeshes(registry.listFunctions()),
    policyEdges: async () => {
      const tables = new Set(
        registry.listFunctions().flatMap((f) => {
          const v = f.Environment?.Variables;
          return v?.[ENV.service] && v[ENV.policyTable] ? [v[ENV.policyTable]!] : [];
        }),
      );
      return policyEdges((await Promise.all([...tables].map(scan))).flat());
    },
  };
}

/** Each mesh service's `live` alias as the registry holds it. */
export function liveAliases(registry: FunctionRegistry): AliasRow[] {
  return registry.listFunctions().flatMap((f) => {
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
  });
}
