/**
 * The SnapshotStore interface: what every store of snapshots offers, whatever holds the bytes.
 * Two backends implement it: {@link DirectorySnapshotStore} (a directory on disk, opened with
 * `DirectorySnapshotStore.at(dir)`) and `S3SnapshotStore` (a bucket prefix, opened with
 * `S3SnapshotStore.at({ client, bucket, prefix })`). Code written against this interface — the
 * restore with fallback, `CheckpointScheduler`, the CLI's `store` and `s3` commands — works with
 * either.
 *
 * A store is opened by a static `at(...)` (where it is) and a snapshot's bytes by the instance's
 * `open(id)`: the two never share a name.
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { CodecName } from '../codec/codec.js';
import type { EntryIterable } from '../snapshot/entry-source.js';
import type { VerifyResult } from '../snapshot/inspect-snapshot.js';
import type { PaceOptions } from '../snapshot/pacer.js';
import type { RetentionPolicy } from './retention.js';
import type { SnapshotApplier, SnapshotSource } from './source-applier.js';
import type { StoreProblem } from './store-problem.js';

/** A snapshot in a {@link SnapshotStore}, described from its header and footer. */
export interface StoredSnapshot {
  /** The snapshot's id (its file or object name without `.snap`). */
  id: string;
  /** Raft-style position, when the metadata had one. */
  index?: number;
  /** Raft term, when the metadata had one. */
  term?: number;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Size in bytes. */
  size: number;
  /** Entries in the snapshot. */
  entries: number;
  /** Bytes of encoded entries, uncompressed. */
  rawBytes: number;
  /** Codec of the snapshot's data frames. */
  codec: CodecName;
  /** The metadata stored in the snapshot's header. */
  meta: Record<string, unknown>;
}

/** Options of {@link SnapshotStore.create}. */
export interface CreateOptions {
  /** The snapshot's id. Default: one made from the metadata's index and the time. */
  id?: string;
  /** Aborting it rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Apply the store's retention afterwards, when the store has one and applies it by itself
   * (the store's `autoPrune` option, default true in the directory and S3 stores). `false`
   * skips it once.
   */
  prune?: boolean;
  /**
   * Default true: the snapshot runs beside the application. While the application keeps the
   * event loop busy it takes at most a twentieth of the main thread and compresses on all cores but
   * one, and takes longer instead; while the application is idle it runs at full speed. `false`:
   * full speed whatever the application does. See `background` of writeSnapshot, and
   * docs/CONSISTENCY.md.
   */
  background?: boolean;
  /** How the snapshot's main-thread work shares the event loop (slice length, share); overrides `background`'s. */
  pace?: PaceOptions;
}

/** Options of {@link SnapshotStore.restore}. */
export interface RestoreOptions {
  /**
   * Restore this snapshot and no other: a damaged one is an error (the corruption error, the
   * snapshot left where it is), never a silent fall back to an older one. Without it: the newest
   * snapshot that verifies, damaged newer ones moved aside.
   */
  id?: string;
  /** The time expiry is judged against. Default: now. */
  now?: number;
  /** Aborting it aborts the restore (the applier is aborted, the live state untouched). */
  signal?: AbortSignal;
}

/** What a restore did: the snapshot it restored and the damaged ones it moved aside first. */
export interface RestoreResult<S extends StoredSnapshot = StoredSnapshot> {
  /** The snapshot restored. */
  snapshot: S;
  /** Entries restored (expired ones skipped). */
  entries: number;
  /** Entries skipped because they had expired. */
  expired: number;
  /** Snapshots that failed and were moved aside before this one restored. */
  corrupt: string[];
}

/** What {@link SnapshotStore.verifyAll} found. */
export interface VerifyAllResult {
  /** Ids of the snapshots that verified. */
  ok: string[];
  /** The snapshots found damaged in their own bytes, moved aside under `corrupt/` (where the store could). */
  corrupt: {
    /** The snapshot's id. */
    id: string;
    /** The damage found. */
    error: Error;
  }[];
  /**
   * The snapshots that could not be checked because the environment failed (a codec that cannot
   * run, an unreadable file, an I/O error): not corruption, so they were left in place.
   */
  failed: {
    /** The snapshot's id. */
    id: string;
    /** The failure (a typed error: SNAP_ERR_CODEC, SNAP_ERR_IO…). */
    error: Error;
  }[];
  /** What the store skipped when it opened or listed (see {@link SnapshotStore.problems}). */
  problems: StoreProblem[];
}

/** Options of {@link SnapshotStore.open}. */
export interface OpenSnapshotOptions {
  /** Aborting it destroys the stream with an `AbortError`. */
  signal?: AbortSignal;
  /** The first byte to read. Default 0. */
  start?: number;
}

/**
 * A store of snapshots: create, list, read, verify, restore (with fallback past damaged
 * snapshots), prune and delete. Implemented by {@link DirectorySnapshotStore} and
 * `S3SnapshotStore`. Events both emit: `created` (the {@link StoredSnapshot}), `deleted` (the id),
 * `pruned` (the ids), `restored` (the {@link RestoreResult}), `corrupt` (`{ id, error, movedAside,
 * cause? }` and where the snapshot is now: a damaged snapshot, moved under `corrupt/` unless it
 * could not be).
 *
 * Damage in a snapshot's own bytes (`isCorruptionError`) moves it aside; a failure of the
 * environment (an unreadable file, a codec that cannot run, a failing network) never does.
 */
export interface SnapshotStore<S extends StoredSnapshot = StoredSnapshot> extends EventEmitter {
  /** Where the store is, for messages: its directory, or `s3://bucket/prefix`. */
  readonly location: string;
  /** The options the store was opened with. */
  readonly options: {
    /** The retention `prune()` applies when given no policy. */
    readonly retention?: RetentionPolicy | undefined;
  };
  /**
   * What the store skipped rather than fail on (when it opened, or at the last listing), each
   * with its path and a typed error. Every good snapshot is listed anyway.
   */
  readonly problems: readonly StoreProblem[];
  /** Every snapshot, newest first. */
  list(): Promise<S[]>;
  /** The newest snapshot, or undefined when the store holds none. */
  latest(): Promise<S | undefined>;
  /** The snapshot with this id, or undefined when there is none. */
  get(id: string): Promise<S | undefined>;
  /**
   * Writes a new snapshot of `source` — a {@link SnapshotSource} (its view and its `meta()` are
   * what the snapshot holds) or any iterable or async iterable of entries (an array, a generator)
   * — with `meta` added to its metadata.
   */
  create(source: SnapshotSource | EntryIterable, meta?: Record<string, unknown>, options?: CreateOptions): Promise<S>;
  /** The snapshot's bytes as stored (not checked: `readSnapshot` or `verifySnapshot` them). A missing snapshot is a NotFoundError. */
  open(id: string, options?: OpenSnapshotOptions): Readable;
  /** Checks every byte of a snapshot; resolves with what was checked, rejects with the damage found. */
  verify(id: string, options?: { signal?: AbortSignal }): Promise<VerifyResult>;
  /**
   * Verifies every snapshot: those damaged in their own bytes are moved aside (`corrupt`); those
   * that could not be checked because the environment failed are left in place (`failed`).
   */
  verifyAll(): Promise<VerifyAllResult>;
  /**
   * Restores into `applier`: with `id`, that snapshot or an error; without, the newest snapshot
   * that verifies — one damaged in its own bytes is aborted, moved aside (event `corrupt`) and the
   * next older one tried. Any other failure is thrown and the snapshot left in place.
   */
  restore(applier: SnapshotApplier, options?: RestoreOptions): Promise<RestoreResult<S>>;
  /** Applies a retention policy (default: the store's) at `now`; never removes the newest snapshot. Resolves with the ids removed. */
  prune(policy?: RetentionPolicy, now?: number): Promise<string[]>;
  /** Deletes a snapshot; a missing one is a NotFoundError, one this store instance has in use (being read, restored or sent) a BusyError. */
  delete(id: string): Promise<void>;
  /** Releases what the store holds (the directory store's lock). */
  close(): Promise<void>;
}
