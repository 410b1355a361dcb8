/**
 * The regions one local mesh serves, for its one account: per region a function registry and a secret
 * store, as Lambda and Secrets Manager are regional services. A region the assembly never named still
 * answers (empty), as every AWS region does; requests are served in the region their SigV4 credential
 * scope names. The home region is the one unsigned requests and region-less callers get.
 */
import { SecretStore, type SecretStoreOptions } from '../endpoint/secret-store';
import { FunctionRegistry, type FunctionRegistryOptions } from './function-registry';

export interface RegionState {
  readonly region: string;
  readonly registry: FunctionRegistry;
  readonly secrets: SecretStore;
}

export interface LocalRegionsOptions {
  readonly accountId: string;
  readonly home: string;
  /** Registry options shared by every region (weights' random draw, settle time). */
  readonly registry?: Omit<FunctionRegistryOptions, 'region' | 'accountId'>;
  /** Secret store options shared by every region (the rotation scheduler). */
  readonly secrets?: Omit<SecretStoreOptions, 'region' | 'accountId'>;
}

export class LocalRegions {
  readonly accountId: string;
  readonly home: string;
  private readonly byRegion = new Map<string, RegionState>();
  private readonly listeners: ((name: string, region: string) => void)[] = [];

  constructor(private readonly options: LocalRegionsOptions) {
    this.accountId = options.accountId;
    this.home = options.home;
    this.get(options.home);
  }

  /** The region's state, made empty on first use. */
  get(region: string = this.home): RegionState {
    let state = this.byRegion.get(region);
    if (!state) {
      const scope = { region, accountId: this.accountId };
      const registry = new FunctionRegistry({ ...this.options.registry, ...scope });
      registry.onChange((name) => {
        for (const l of this.listeners) l(name, region);
      });
      state = { region, registry, secrets: new SecretStore({ ...this.options.secrets, ...scope }) };
      this.byRegion.set(region, state);
    }
    return state;
  }

  registry(region?: string): FunctionRegistry {
    return this.get(region).registry;
  }

  secrets(region?: string): SecretStore {
    return this.get(region).secrets;
  }

  /** Regions with state, the home region first. */
  regions(): string[] {
    return [this.home, ...[...this.byRegion.keys()].filter((r) => r !== this.home).sort()];
  }

  /** Called when a function's $LATEST changes in any region. */
  onChange(listener: (name: string, region: string) => void): void {
    this.listeners.push(listener);
  }
}
