/**
 * The restore and verify-all loops of every {@link SnapshotStore}, written once: the directory
 * and S3 stores differ only in how a snapshot's bytes are read and how a damaged one is moved
 * aside, which they hand in as {@link StoreInternals}.
 *
 * The rule both loops keep: only damage in a snapshot's own bytes (`isCorruptionError`) moves it
 * aside and, in a restore, falls back to the next older one. A failure of the environment (a codec
 * that cannot run, an I/O error, a full target disk, a failing network) stops the restore with its
 * typed error and moves nothing: an older snapshot would fail the same way, or restore older state
 * than the caller expects.
 */
import type { Readable } from 'node:stream';
import { ErrorCodes, isCorruptionError, NotFoundError, SnapstreamError } from '../errors.js';
import { applySnapshot } from './apply-snapshot.js';
import type { RestoreOptions, RestoreResult, SnapshotStore, StoredSnapshot, VerifyAllResult } from './snapshot-store-interface.js';
import type { SnapshotApplier } from './source-applier.js';

/**
 * What the shared loops need of a store beyond its public interface.
 * @internal
 */
export interface StoreInternals<S extends StoredSnapshot> {
  /** A snapshot's bytes for one attempt: a path (read with pooled memory) or a stream maker. */
  bytes(snapshot: S, signal?: AbortSignal): string | (() => Readable);
  /** Moves a damaged snapshot aside and drops it from the list; reports what it did (`corrupt` event), never throws. */
  quarantine(snapshot: S, error: Error): Promise<void>;
  /** Marks the snapshot in use for the time of one attempt; returns the release. */
  hold?(id: string): () => void;
  /** A failure that is not corruption, as the caller gets it (a raw system error typed). */
  failure?(err: unknown, id: string): unknown;
}

/**
 * {@link SnapshotStore.restore} for any store: the named snapshot (no fallback), or the newest
 * that restores, moving damaged ones aside.
 * @internal
 */
export async function restoreWithFallback<S extends StoredSnapshot>(
  store: SnapshotStore<S>,
  internals: StoreInternals<S>,
  applier: SnapshotApplier,
  options: RestoreOptions = {},
): Promise<RestoreResult<S>> {
  const { id, ...applyOptions } = options;
  const attempt = async (s: S, corrupt: string[]): Promise<RestoreResult<S>> => {
    const release = internals.hold?.(s.id);
    try {
      const applied = await applySnapshot(internals.bytes(s, options.signal), s.meta, applier, applyOptions);
      const result = { snapshot: s, ...applied, corrupt };
      store.emit('restored', result);
      return result;
    } finally {
      release?.();
    }
  };
  if (id !== undefined) {
    const s = await store.get(id);
    if (!s) throw new NotFoundError(`no snapshot ${id} in ${store.location}`);
    // That snapshot or an error: a damaged one stays where it is, for the caller to judge.
    return attempt(s, []).catch((err: unknown) => {
      throw isCorruptionError(err) ? err : (internals.failure?.(err, s.id) ?? err);
    });
  }
  const corrupt: string[] = [];
  for (const s of await store.list()) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(s, corrupt);
    } catch (err) {
      if (!isCorruptionError(err)) throw internals.failure?.(err, s.id) ?? err;
      corrupt.push(s.id);
      await internals.quarantine(s, err);
    }
  }
  throw new NotFoundError(corrupt.length > 0 ? `no snapshot verifies (${corrupt.join(', ')} were corrupt)` : `${store.location} holds no snapshot`);
}

/**
 * {@link SnapshotStore.verifyAll} for any store: damaged snapshots moved aside, those the
 * environment kept from being checked left in place.
 * @internal
 */
export async function verifyAllSnapshots<S extends StoredSnapshot>(store: SnapshotStore<S>, internals: StoreInternals<S>): Promise<VerifyAllResult> {
  const list = await store.list();
  const result: VerifyAllResult = { ok: [], corrupt: [], failed: [], problems: [...store.problems] };
  for (const s of list) {
    try {
      await store.verify(s.id);
      result.ok.push(s.id);
    } catch (err) {
      if (isCorruptionError(err)) {
        await internals.quarantine(s, err);
        result.corrupt.push({ id: s.id, error: err });
      } else if (err instanceof SnapstreamError && err.code !== ErrorCodes.INVALID_ARGUMENT) {
        // The environment failed (a codec, a read): reported, never a reason to move a snapshot.
        result.failed.push({ id: s.id, error: err });
      } else {
        throw err;
      }
    }
  }
  return result;
}
