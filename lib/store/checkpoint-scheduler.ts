/**
 * CheckpointScheduler: takes snapshots into a store when enough entries have been applied
 * and/or on a time interval, never closer together than `minIntervalMs`, one at a time, in the
 * background (the application keeps writing; the source is a point-in-time view taken with its
 * metadata in the tick of the trigger — docs/GUIDE.md, "Consistency"). Prunes after each snapshot.
 * Works with any {@link SnapshotStore}: a directory or an S3 bucket prefix. Reports through events:
 * `snapshot` (the stored snapshot), `pruned` (ids), `failure` (the error; the scheduler carries
 * on), `prune-failure` (pruning failed after a snapshot that was stored), `skipped` (a trigger
 * while one was running or too soon).
 */
import { EventEmitter } from 'node:events';
import type { SnapshotSource } from './source-applier.js';
import { InvalidArgumentError } from '../errors.js';
import type { SnapshotStore, StoredSnapshot } from './snapshot-store-interface.js';
import type { RetentionPolicy } from './retention.js';
import type { PaceOptions } from '../snapshot/pacer.js';

/** Options for a {@link CheckpointScheduler}: give `everyEntries`, `intervalMs`, or both. */
export interface CheckpointSchedulerOptions {
  /** The store snapshots are taken into (and pruned from): a directory or an S3 store. */
  store: SnapshotStore;
  /**
   * Makes the source for one snapshot: a fresh point-in-time view each time, with the index it
   * stands for in its metadata (`() => mapSource(cache, { index: applied })`). It is called in
   * the tick of the trigger (the `noteApplied()` that crossed `everyEntries`, the timer, or
   * `checkpoint()`), so nothing is applied between the view and its index — unless the function
   * itself awaits before taking its view: then it must take the index there too.
   */
  source: () => SnapshotSource | Promise<SnapshotSource>;
  /** Snapshot once this many entries were applied since the last one. */
  everyEntries?: number;
  /** Snapshot this often (ms). */
  intervalMs?: number;
  /** Never two snapshots closer than this (ms). Default 0. */
  minIntervalMs?: number;
  /** Retention applied after each snapshot. Default: the store's. */
  retention?: RetentionPolicy;
  /**
   * Take the snapshots as background work (see `background` of SnapshotStore.create): at most
   * a twentieth of the main thread while the application keeps it busy, and all cores but one for
   * compression. Default true (as store.create's): the application keeps its throughput, a
   * snapshot takes longer; `false`: full speed.
   */
  background?: boolean;
  /** How a snapshot's main-thread work shares the event loop; overrides `background`'s. */
  pace?: PaceOptions;
}

/**
 * Takes snapshots into a {@link SnapshotStore} in the background, after `everyEntries` applied
 * entries (see {@link CheckpointScheduler.noteApplied}) and/or every `intervalMs`, one at a time,
 * pruning after each. Events: `snapshot`, `pruned`, `failure`, `prune-failure`, `skipped`.
 */
export class CheckpointScheduler extends EventEmitter {
  private applied = 0;
  private lastAt = 0;
  private running: Promise<StoredSnapshot | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(private readonly options: CheckpointSchedulerOptions) {
    super();
    if (options.everyEntries === undefined && options.intervalMs === undefined) {
      throw new InvalidArgumentError('give everyEntries, intervalMs, or both');
    }
  }

  /** Entries applied since the last snapshot. */
  get pendingEntries(): number {
    return this.applied;
  }

  /** Arms the triggers: until then neither `intervalMs` nor `everyEntries` takes a snapshot. Returns the scheduler. */
  start(): this {
    this.stopped = false;
    if (this.options.intervalMs !== undefined) {
      if (this.timer) clearInterval(this.timer); // started again: one timer, not two
      this.timer = setInterval(() => void this.trigger('interval'), this.options.intervalMs);
      this.timer.unref();
    }
    return this;
  }

  /** Stops triggering and waits for a snapshot under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Tells the scheduler `n` more entries were applied; may start a snapshot in the background. */
  noteApplied(n = 1): void {
    this.applied += n;
    const every = this.options.everyEntries;
    if (every !== undefined && this.applied >= every) void this.trigger('entries');
  }

  /**
   * Takes a snapshot of the state as of this call (stopped or not, whatever `minIntervalMs`
   * says): when one is under way — it began earlier, and may hold an older state — it waits
   * for it and then takes a new one. Resolves with the snapshot, or null if it failed (the
   * `failure` event has the error).
   */
  async checkpoint(): Promise<StoredSnapshot | null> {
    if (this.running) await this.running;
    return this.trigger('manual', true);
  }

  private trigger(reason: string, force = false): Promise<StoredSnapshot | null> {
    if (this.running) {
      this.emit('skipped', { reason, why: 'a snapshot is already being taken' });
      return this.running;
    }
    if (!force && this.stopped) return Promise.resolve(null);
    const since = Date.now() - this.lastAt;
    if (!force && since < (this.options.minIntervalMs ?? 0)) {
      this.emit('skipped', { reason, why: `only ${since} ms since the last snapshot` });
      return Promise.resolve(null);
    }
    this.running = this.take(reason).finally(() => (this.running = null));
    return this.running;
  }

  private async take(reason: string): Promise<StoredSnapshot | null> {
    const appliedBefore = this.applied;
    this.lastAt = Date.now();
    try {
      const source = await this.options.source();
      // Pruned below, with the scheduler's retention and events.
      const stored = await this.options.store.create(source, undefined, {
        prune: false,
        background: this.options.background ?? true,
        ...(this.options.pace ? { pace: this.options.pace } : {}),
      });
      this.applied -= appliedBefore;
      this.emit('snapshot', stored, reason);
      await this.prune();
      return stored;
    } catch (err) {
      this.emit('failure', err);
      return null;
    }
  }

  /** Prunes after a snapshot; a failure here does not undo the snapshot, so it has its own event. */
  private async prune(): Promise<void> {
    try {
      const pruned = await this.options.store.prune(this.options.retention ?? this.options.store.options.retention);
      if (pruned.length > 0) this.emit('pruned', pruned);
    } catch (err) {
      this.emit('prune-failure', err);
    }
  }
}
