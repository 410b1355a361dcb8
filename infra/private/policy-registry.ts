import type { IConstruct } from 'constructs';
import { canonicalJson } from '../../shared/canonical-json';
import { MANAGED_BY } from '../../shared/names';
import { type PolicyItem, type PolicySnapshot, parsePolicyItem } from '../../shared/policy';
import { sealSnapshot } from '../../shared/snapshot-seal';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';

/**
 * The deploy-time policy of one mesh: every item the constructs declare, validated at once with
 * shared/policy.ts, keyed by (pk, sk). The custom resource and the snapshot both read it lazily, so
 * items added after the functions were constructed are still shipped.
 */
export class PolicyRegistry {
  private readonly items = new Map<string, PolicyItem>();

  /** `where` prefixes every error: the mesh's kind and path. */
  constructor(
    private readonly owner: IConstruct,
    private readonly where: string,
  ) {}

  /**
   * Adds one item (managedBy is forced to "deploy"). The same key with the same content is a no-op;
   * the same key with other content is an error naming both, since two declarations disagree.
   */
  add(raw: Record<string, unknown>): PolicyItem {
    const candidate: Record<string, unknown> = { ...raw, managedBy: MANAGED_BY.deploy };
    const parsed = parsePolicyItem(candidate);
    if (!parsed.ok) {
      throw new MeshValidationError(
        MeshErrorCode.INVALID_POLICY_ITEM,
        `${this.where}: invalid policy item ${parsed.error}`,
        this.owner,
      );
    }
    const key = `${String(candidate.pk)}\u0000${String(candidate.sk)}`;
    const existing = this.items.get(key);
    if (existing) {
      if (canonicalJson(existing) === canonicalJson(parsed.item)) return existing;
      throw new MeshValidationError(
        MeshErrorCode.CONFLICTING_POLICY_ITEM,
        `${this.where}: policy item ${String(candidate.pk)}/${String(candidate.sk)} declared twice with different ` +
          `settings (${canonicalJson(existing)} vs ${canonicalJson(parsed.item)}); declare it once`,
        this.owner,
      );
    }
    this.items.set(key, parsed.item);
    return parsed.item;
  }

  /** All items, sorted by pk then sk: stable output, stable asset hashes. */
  list(): PolicyItem[] {
    return [...this.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /**
   * The snapshot shipped at LAYER.snapshotPath. `generatedAt` is when it was made (SOURCE_DATE_EPOCH
   * when set, for reproducible builds: an earlier time only makes it count as older): the runtime
   * trusts a snapshot for authorization only while it is younger than the policy cache's bound.
   * The layer's asset hash leaves the time out (snapshot-layer-code.ts), so a synth with the same
   * items publishes nothing new. `itemsDigest` seals the items `add` checked: the runtime uses them
   * without checking them again, and refuses a snapshot whose items no longer match.
   */
  snapshot(mesh: string, now: number = Date.now()): PolicySnapshot {
    const fixed = process.env.SOURCE_DATE_EPOCH;
    const at = fixed !== undefined && fixed !== '' ? Number(fixed) * 1000 : now;
    return sealSnapshot({ mesh, generatedAt: new Date(at).toISOString(), items: this.list() });
  }
}
