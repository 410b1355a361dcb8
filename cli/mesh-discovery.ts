/**
 * Finds the mesh without hand-copied ARNs: every mesh function carries MESH_NAME, MESH_SERVICE and
 * MESH_POLICY_TABLE in its environment, and ListFunctions returns Environment.Variables.
 */
import { ENV } from '../shared/names';
import { didYouMean } from '../shared/suggest';
import type { AwsClients } from './aws-clients';
import { awsCall, CommandError, UsageError } from './errors';

export interface MeshService {
  readonly service: string;
  readonly functionName: string;
  readonly functionArn?: string;
  /** The channels it sends to (MESH_CHANNELS) and consumes (MESH_INBOUND_CHANNELS), by name. */
  readonly channels?: { readonly out: readonly string[]; readonly in: readonly string[] };
  /** The services it calls over HTTP (MESH_HTTP_TARGETS), by name: one may run outside Lambda. */
  readonly httpTargets?: readonly string[];
  /** The CloudWatch Logs group the function writes to, when it sets one (else Lambda's `/aws/lambda/<name>`). */
  readonly logGroup?: string;
}

export interface DiscoveredMesh {
  readonly name: string;
  readonly table?: string;
  /** Sorted by service name. */
  readonly services: readonly MeshService[];
}

/** The parts of a ListFunctions entry discovery reads. */
export interface FunctionSummary {
  readonly FunctionName?: string;
  readonly FunctionArn?: string;
  readonly Environment?: { readonly Variables?: Readonly<Record<string, string>> };
  readonly LoggingConfig?: { readonly LogGroup?: string };
}

/** Pure: ListFunctions entries -> meshes, by MESH_NAME; functions without mesh env are skipped. */
export function groupMeshes(functions: readonly FunctionSummary[]): DiscoveredMesh[] {
  const meshes = new Map<string, { table?: string; services: MeshService[] }>();
  for (const fn of functions) {
    const vars = fn.Environment?.Variables ?? {};
    const name = vars[ENV.meshName];
    const service = vars[ENV.service];
    if (!name || !service || !fn.FunctionName) continue;
    const m = meshes.get(name) ?? { services: [] };
    m.table ??= vars[ENV.policyTable] || undefined;
    const channels = { out: jsonKeys(vars[ENV.channels]), in: jsonKeys(vars[ENV.inboundChannels]) };
    const httpTargets = jsonKeys(vars[ENV.httpTargets]);
    m.services.push({
      service,
      functionName: fn.FunctionName,
      functionArn: fn.FunctionArn,
      ...(channels.out.length || channels.in.length ? { channels } : {}),
      ...(httpTargets.length ? { httpTargets } : {}),
      ...(fn.LoggingConfig?.LogGroup ? { logGroup: fn.LoggingConfig.LogGroup } : {}),
    });
    meshes.set(name, m);
  }
  return [...meshes.entries()]
    .map(([name, m]) => ({
      name,
      table: m.table,
      services: m.services.sort((a, b) => a.service.localeCompare(b.service)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The names a MESH_CHANNELS / MESH_INBOUND_CHANNELS / MESH_HTTP_TARGETS value maps (none when unset or malformed). */
function jsonKeys(json: string | undefined): string[] {
  if (!json) return [];
  try {
    const o = JSON.parse(json) as unknown;
    return o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : [];
  } catch {
    return [];
  }
}

/** Pure: the mesh the operator means; `--mesh` picks one when several exist. */
export function pickMesh(meshes: readonly DiscoveredMesh[], wanted: string | undefined, where: string): DiscoveredMesh {
  if (wanted !== undefined) {
    const m = meshes.find((x) => x.name === wanted);
    if (m) return m;
    const known = meshes.map((x) => x.name).join(', ') || 'none';
    throw new UsageError(`no mesh named ${JSON.stringify(wanted)} in ${where}; meshes found: ${known}`);
  }
  if (meshes.length === 0) {
    throw new CommandError(
      `no mesh functions found in ${where} (none has ${ENV.meshName} in its environment); deploy the mesh, or check --region / --endpoint-url`,
    );
  }
  if (meshes.length > 1) {
    throw new UsageError(
      `${meshes.length} meshes found in ${where} (${meshes.map((x) => x.name).join(', ')}); pick one with --mesh <name>`,
    );
  }
  return meshes[0];
}

/** Pure: the function of a service, or a UsageError naming the known services. */
export function findService(mesh: DiscoveredMesh, service: string): MeshService {
  const s = mesh.services.find((x) => x.service === service);
  if (s) return s;
  const known = mesh.services.map((x) => x.service).join(', ') || 'none';
  throw new UsageError(
    `unknown service ${JSON.stringify(service)}${didYouMean(
      service,
      mesh.services.map((x) => x.service),
    )} in mesh ${mesh.name}; known services: ${known} (see \`mesh status\`)`,
  );
}

/** Pure: the mesh's policy table, or an error saying why there is none. */
export function requireTable(mesh: DiscoveredMesh): string {
  if (mesh.table) return mesh.table;
  throw new CommandError(`mesh ${mesh.name} has no policy table: no function sets ${ENV.policyTable}`);
}

/** Adapter: every function (paginated), grouped into meshes. */
export async function discoverMeshes(clients: AwsClients): Promise<DiscoveredMesh[]> {
  return groupMeshes(await listFunctions(clients));
}

/** Adapter: every function of the region (paginated ListFunctions). */
export async function listFunctions(clients: AwsClients): Promise<FunctionSummary[]> {
  const lambda = await clients.lambda();
  const { ListFunctionsCommand } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const all: FunctionSummary[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('ListFunctions', () => lambda.send(new ListFunctionsCommand({ Marker: marker })));
    all.push(...(page.Functions ?? []));
    marker = page.NextMarker || undefined;
  } while (marker);
  return all;
}

/** Adapter: discovery + `--mesh`. */
export async function discoverMesh(clients: AwsClients, wanted: string | undefined): Promise<DiscoveredMesh> {
  const meshes = await discoverMeshes(clients);
  const region = await clients.region();
  const ep = clients.settings.endpoints.LAMBDA;
  return pickMesh(meshes, wanted, ep ? `${region} at ${ep}` : region);
}
