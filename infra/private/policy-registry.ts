import type { IConstruct } from 'constructs';
import { canonicalJson } from '../../shared/canonical-json';
import { MANAGED_BY } from '../../shared/names';
import { type PolicyItem, type PolicySnapshot, parsePolicyItem } from '../../shared/policy';
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
   * The snapshot shipped at LAYER.snapshotPath. `generatedAt` is fixed unless SOURCE_DATE_EPOCH is
   * set: a wall-clock time would change the asset on every synth and publish new versions of every
   * function on every deploy.
   */
  snapshot(mesh: string): PolicySnapshot {
    const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
    return { mesh, generatedAt: new Date(epoch * 1000).toISOString(), items: this.list() };
  }
}
