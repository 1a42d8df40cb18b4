/**
 * A `Map` as snapshot source and restore target. The source copies nothing up front: it walks
 * the map in insertion order, and its cursor is the number of entries passed. The applier fills
 * a new Map and swaps its contents into the live one only on commit.
 */
import type { DecodedEntry, Entry } from '../format/entry.js';
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
 * The map's entries as a snapshot source, in insertion order; the cursor is the number of
 * entries passed. `meta` becomes the snapshot header's user metadata.
 */
export function mapSource(map: SnapshotMap, meta: Record<string, unknown> = {}): SnapshotSource {
  return {
    *entries(cursor: unknown): Generator<Entry> {
      const skip = typeof cursor === 'number' ? cursor : 0;
      let i = 0;
      for (const [key, v] of map) {
        if (i++ < skip) continue;
        yield isWrapped(v) ? { key, value: v.value, expiresAt: v.expiresAt } : { key, value: v };
      }
    },
    meta: () => meta,
  };
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
