/**
 * A `Map` as snapshot source and restore target.
 *
 * The source is a point-in-time view of the map as of the `mapSource()` call, while the
 * application goes on calling `set`, `delete` and `clear`: the keys are copied in order (8 bytes
 * an entry), the values are not; the first write to a key while the view is open saves the value
 * it replaces (see map-view.ts). The cursor is the number of entries passed. The applier fills a
 * new Map and swaps its contents into the live one only on commit.
 */
import type { DecodedEntry, Entry } from '../format/entry.js';
import { InvalidArgumentError } from '../errors.js';
import { closeWhenCollected, forgetOwner } from './close-when-collected.js';
import { MapView } from './map-view.js';
import type { SnapshotApplier, SnapshotSource } from '../store/source-applier.js';

// Not exported: `@inline` spells them out in the API reference.
/** A key in a {@link SnapshotMap}. @inline */
type Key = string | Buffer;
/** A plain value in a {@link SnapshotMap}. @inline */
type Value = string | Buffer;

/** A {@link SnapshotMap} value with an expiry. */
export interface MapEntryValue {
  /** The value itself. */
  value: Value;
  /** Absolute expiry, milliseconds since the epoch. */
  expiresAt?: number;
}

/** Values may be plain values or `{ value, expiresAt }`. */
export type SnapshotMap = Map<Key, Value | MapEntryValue>;

function isWrapped(v: unknown): v is MapEntryValue {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && 'value' in v;
}

/**
 * The map's entries as of this call, as a snapshot source, in insertion order; the cursor is the
 * number of entries passed. `meta` (copied now) becomes the snapshot header's user metadata:
 * take the map's index in the same tick, with no `await` between it and this call, and the
 * snapshot holds exactly the state at that index.
 *
 * The application may go on writing through `map.set`, `map.delete` and `map.clear` while the
 * snapshot is written: the map instance's methods are patched until the view closes, and the
 * first write to a key saves the value it replaces. Values are taken by reference: replace them,
 * do not change a Buffer or `{ value, expiresAt }` object in place. The view closes when its
 * entries have been read to the end or the reading stops early (a failed or aborted snapshot),
 * on `close()` (the store calls it), or when the source is garbage; `entries()` of a closed view
 * is an InvalidArgumentError: take a new source.
 */
export function mapSource(map: SnapshotMap, meta: Record<string, unknown> = {}): SnapshotSource {
  const taken = copyMeta(meta);
  const view = new MapView(map as Map<unknown, unknown>);
  const close = (): void => {
    forgetOwner(view);
    view.close();
  };
  const source: SnapshotSource = {
    *entries(cursor: unknown): Generator<Entry> {
      if (!view.isOpen) throw new InvalidArgumentError('this mapSource view is closed (read once, stopped or closed): take a new mapSource');
      // Holds the source while it is read: a view is closed as garbage only once nothing reads it.
      void source;
      let i = typeof cursor === 'number' && cursor > 0 ? cursor : 0;
      // A count of entries passed, no more than the view holds: anything else would read as
      // an empty source or a changed one.
      if (!Number.isInteger(i) || i > view.size) {
        close();
        throw new InvalidArgumentError(`a mapSource cursor counts entries (0 to ${view.size}), not ${String(cursor)}`);
      }
      try {
        for (; i < view.size; i++) {
          const key = view.keyAt(i) as Key;
          const v = view.valueAt(i) as Value | MapEntryValue;
          yield isWrapped(v) ? { key, value: v.value, expiresAt: v.expiresAt } : { key, value: v };
        }
      } finally {
        close();
      }
    },
    meta: () => taken,
    close,
  };
  closeWhenCollected(source, view);
  return source;
}

/** The metadata as of now: a later change to the caller's object must not reach the header. */
function copyMeta(meta: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(meta);
  } catch {
    return { ...meta };
  }
}

/** Restores into `map`; entries with an expiry come back as `{ value, expiresAt }`. */
export function mapApplier(map: SnapshotMap): SnapshotApplier {
  let next: SnapshotMap | null = null;
  return {
    async begin() {
      next = new Map();
    },
    async write(entries: DecodedEntry[]) {
      for (const e of entries) next!.set(e.key, e.expiresAt === undefined ? e.value : { value: e.value, expiresAt: e.expiresAt });
    },
    async commit() {
      map.clear();
      for (const [k, v] of next!) map.set(k, v);
      next = null;
    },
    async abort() {
      next = null;
    },
  };
}
