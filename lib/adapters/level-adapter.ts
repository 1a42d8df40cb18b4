/**
 * Any `abstract-level` database (LevelDB through `classic-level`, and the rest of the family) as
 * snapshot source and restore target. Typed structurally: snapstream does not depend on
 * abstract-level, it only calls what every implementation has.
 *
 * Source: one iterator, which reads a consistent point-in-time view of the database while the
 * application keeps writing; entries come in batches (`nextv`), keys and values as Buffers; the
 * cursor is the last key (base64). A creation resumed in the same process continues after the
 * cursor in the original view (`seek`); one resumed by a new process can only continue after it
 * in a fresh view, which may hold writes newer than the snapshot's metadata says.
 *
 * Applier: fills a fresh database beside the live one (`<location>.restoring`), then swaps it
 * in with renames and reopens it; the application reads `handle.db` for the current database.
 * A crash leaves the old database or the new one, never half of one (`recoverLevel`).
 */
import fsp from 'node:fs/promises';
import type { DecodedEntry, Entry } from '../format/entry.js';
import { fsyncDirectory } from '../sink/durable-file.js';
import { recoverSwap, stagingPathFor, swapIn } from './swap-in.js';
import { wrapIoError } from '../errors.js';
import { typedFailures, type SnapshotApplier, type SnapshotSource } from '../store/source-applier.js';

const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
const BATCH = 1000;

/** The parts of an abstract-level iterator used here. */
export interface LevelIterator {
  /** Up to `size` next `[key, value]` rows; none at the end. */
  nextv(size: number): Promise<[Buffer, Buffer][]>;
  /** Releases the iterator and the view it reads. */
  close(): Promise<void>;
  /** Moves to the first key at or after `target` (abstract-level iterators have it). */
  seek?(target: Buffer): void;
}

/** The parts of an abstract-level database used here. */
export interface LevelLike {
  /** `'opening'`, `'open'`, `'closing'` or `'closed'`. */
  readonly status?: string;
  /** An iterator over a point-in-time view (options such as `gt`, `keyEncoding`). */
  iterator(options: Record<string, unknown>): LevelIterator;
  /** Writes the puts atomically (options such as `sync`, `keyEncoding`). */
  batch(ops: { type: 'put'; key: Buffer | string; value: Buffer | string }[], options?: Record<string, unknown>): Promise<void>;
  /** Opens the database (abstract-level databases also open on first use). */
  open?(): Promise<void>;
  /** Closes the database. */
  close(): Promise<void>;
}

/**
 * The view is taken when the source is made — pass `meta` (the applied index) from the same
 * moment, with no `await` in between, and the snapshot holds exactly the state at that index.
 * This is the model every source follows (docs/GUIDE.md, "Consistency: what a source must
 * promise"): the database's own snapshot is the point-in-time view, taken in the caller's tick
 * together with the metadata, which is copied then.
 */
export function levelSource(db: Pick<LevelLike, 'iterator'>, meta: Record<string, unknown> = {}): SnapshotSource {
  // The metadata as of now, with the view: a later change to the caller's object must not reach the header.
  const taken = { kind: 'level', ...structuredClone(meta) };
  let view: LevelIterator | null = db.iterator({ ...BUFFERS });
  const release = async (): Promise<void> => {
    const it = view;
    view = null;
    await it?.close();
  };
  return {
    entries(cursor: unknown): AsyncIterable<Entry[]> {
      if (cursor === undefined && view) {
        const it = view;
        view = null;
        return batches(it);
      }
      const after = typeof cursor === 'string' ? Buffer.from(cursor, 'base64') : null;
      // Resuming in the same process: continue after the cursor in the view taken at the start,
      // so the snapshot still holds the state at one point in time.
      if (after && view?.seek) {
        const it = view;
        view = null;
        it.seek!(after);
        return batches(it, after);
      }
      // No view left (a new process resumes): continue after the cursor from a fresh view.
      release().catch(() => {});
      const options: Record<string, unknown> = { ...BUFFERS };
      if (after) options.gt = after;
      return batches(db.iterator(options));
    },
    cursorOf: (entry: Entry) => Buffer.from(entry.key as Buffer).toString('base64'),
    meta: () => taken,
    close: release,
  };
}

/** The iterator's rows in batches; `after`: skip a first key equal to it (seek lands on it). */
async function* batches(it: LevelIterator, after: Buffer | null = null): AsyncGenerator<Entry[]> {
  try {
    for (;;) {
      let rows = await nextv(it);
      if (after && rows.length > 0 && Buffer.compare(rows[0]![0], after) === 0) rows = rows.slice(1);
      after = null;
      if (rows.length === 0) {
        // (Only the skipped key came back: read on.)
        rows = await nextv(it);
        if (rows.length === 0) return;
      }
      yield rows.map(([key, value]) => ({ key, value }));
    }
  } finally {
    await it.close();
  }
}

/** The next rows; the database's own errors as SnapstreamErrors. */
async function nextv(it: LevelIterator): Promise<[Buffer, Buffer][]> {
  try {
    return await it.nextv(BATCH);
  } catch (err) {
    throw wrapIoError(err, 'reading the database');
  }
}

/** A live database the applier may replace: the application reads `db` each time. */
export interface LevelHandle<D extends LevelLike = LevelLike> {
  /** Directory of the live database. */
  location: string;
  /** The current database: the applier replaces it on commit, so read it each time. */
  db: D;
  /** Opens the database stored at `location` (used for the fresh one and after the swap). */
  open(location: string): Promise<D>;
}

/**
 * Restores into a fresh database beside the live one, then swaps it in on commit and reopens
 * it as `handle.db`; the live database is untouched until then.
 */
export function levelApplier<D extends LevelLike>(handle: LevelHandle<D>): SnapshotApplier {
  return typedFailures(untypedLevelApplier(handle), `restoring into ${handle.location}`);
}

function untypedLevelApplier<D extends LevelLike>(handle: LevelHandle<D>): SnapshotApplier {
  const staging = stagingPathFor(handle.location);
  let fresh: D | null = null;
  let last: DecodedEntry | undefined;
  return {
    async begin() {
      last = undefined;
      await fsp.rm(staging, { recursive: true, force: true });
      fresh = await handle.open(staging);
    },
    async write(entries: DecodedEntry[]) {
      await fresh!.batch(entries.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })), BUFFERS);
      last = entries.at(-1) ?? last;
    },
    async commit() {
      // Batches are written without fsync (fast); one synced write makes all of them durable
      // (LevelDB syncs its log, and its tables and manifest as it writes them) before the new
      // database is swapped in: a power cut must not leave half of it under the live name.
      if (last) await fresh!.batch([{ type: 'put', key: last.key, value: last.value }], { ...BUFFERS, sync: true });
      last = undefined;
      await fresh!.close();
      fresh = null;
      await fsyncDirectory(staging);
      await handle.db.close();
      await swapIn(handle.location);
      handle.db = await handle.open(handle.location);
    },
    async abort() {
      if (fresh) await fresh.close().catch(() => {});
      fresh = null;
      await fsp.rm(staging, { recursive: true, force: true });
    },
  };
}

/** Before opening a database a restore may have been swapping: finish or undo the swap. */
export function recoverLevel(location: string): Promise<void> {
  return recoverSwap(location);
}
