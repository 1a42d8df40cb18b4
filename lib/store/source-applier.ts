/**
 * What a store snapshots from and restores into: a source of entries that can restart from a
 * cursor, and an applier that builds new state aside and swaps it in atomically.
 */
import type { DecodedEntry, Entry } from '../format/entry.js';
import { wrapIoError } from '../errors.js';
import type { EntryIterable } from '../snapshot/entry-source.js';

/** Where a snapshot's entries come from: {@link mapSource}, {@link levelSource}, {@link directorySource} or your own. */
export interface SnapshotSource {
  /** The entries after `cursor` (all of them when it is undefined), in a stable order. */
  entries(cursor: unknown): EntryIterable;
  /** The cursor after an entry; stored per block, handed back to `entries` on resume. Default: entries so far. */
  cursorOf?(entry: Entry, count: number): unknown;
  /** Metadata to store in the snapshot header (Raft index and term, …). */
  meta?(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Releases what the source holds (a database snapshot), once the snapshot is written. */
  close?(): void | Promise<void>;
}

/** Where a restore puts the entries: {@link mapApplier}, {@link levelApplier}, {@link directoryApplier} or your own. */
export interface SnapshotApplier {
  /** Starts a restore into fresh, temporary state. */
  begin(meta: Record<string, unknown>): Promise<void>;
  /** Adds entries (already filtered of expired ones) to the temporary state. */
  write(entries: DecodedEntry[]): Promise<void>;
  /** Swaps the temporary state in, atomically. */
  commit(): Promise<void>;
  /** Throws the temporary state away; the live state is untouched. */
  abort(): Promise<void>;
}

/**
 * An array, a generator, any (async) iterable: entries, not a SnapshotSource (which is not
 * iterable). An array has an `entries()` method too, so "has `entries`" is no test.
 * @internal
 */
export function isEntryIterable(source: SnapshotSource | EntryIterable): source is EntryIterable {
  const s = source as unknown as Record<symbol, unknown> | null;
  return s !== null && typeof s === 'object' && (typeof s[Symbol.iterator] === 'function' || typeof s[Symbol.asyncIterator] === 'function');
}

/**
 * The same applier, its failures typed: a system error (ENOENT, EACCES, …) or a database's own
 * becomes a SnapstreamError (`SNAP_ERR_IO`, `SNAP_ERR_NO_SPACE`) with the original as `cause`.
 * @internal
 */
export function typedFailures(applier: SnapshotApplier, what: string): SnapshotApplier {
  const typed =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (err) {
        throw wrapIoError(err, what);
      }
    };
  return { begin: typed(applier.begin), write: typed(applier.write), commit: typed(applier.commit), abort: typed(applier.abort) };
}
