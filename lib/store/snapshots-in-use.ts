/**
 * What the directory and S3 stores share of their retention by itself: the count of uses of
 * each snapshot (read, restored, sent, being created) that retention must not remove, and the
 * run after a snapshot is added whose failure is an event, not a failure of what came before.
 */
import type { EventEmitter } from 'node:events';
import type { RetentionPolicy } from './retention.js';

/** The snapshots a store instance has in use, counted (a snapshot may be read twice at once). */
export class SnapshotsInUse {
  private readonly counts = new Map<string, number>();

  /** Marks one more use of `id`. */
  use(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  /** Undoes one {@link SnapshotsInUse.use}. */
  release(id: string): void {
    const n = (this.counts.get(id) ?? 1) - 1;
    if (n > 0) this.counts.set(id, n);
    else this.counts.delete(id);
  }

  /** Marks a use of `id`; the function returned releases it (once, however often it is called). */
  hold(id: string): () => void {
    this.use(id);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(id);
    };
  }

  /** Whether `id` is in use. */
  has(id: string): boolean {
    return this.counts.has(id);
  }

  /** The ids in use. */
  ids(): string[] {
    return [...this.counts.keys()];
  }
}

/** What {@link pruneAfterAdding} needs of a store. */
export interface AutoPruningStore extends Pick<EventEmitter, 'emit'> {
  /** The store's options: its retention, and whether it applies it by itself (default true). */
  readonly options: { readonly retention?: RetentionPolicy | undefined; readonly autoPrune?: boolean | undefined };
  /** Applies `policy`, never removing one of `keep`. */
  prune(policy: RetentionPolicy | undefined, now: number, keep: readonly string[]): Promise<string[]>;
}

/**
 * The store's retention by itself, after `added` was created or received: never removes
 * `added`; a failure is the store's `prune-failure` event, never a rejection (the snapshot
 * added stands).
 */
export async function pruneAfterAdding(store: AutoPruningStore, added: string): Promise<void> {
  if (!store.options.retention || store.options.autoPrune === false) return;
  try {
    await store.prune(store.options.retention, Date.now(), [added]);
  } catch (err) {
    store.emit('prune-failure', err);
  }
}
