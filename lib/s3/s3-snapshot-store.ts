/**
 * S3SnapshotStore: the {@link SnapshotStore} on a bucket prefix — list, latest, create from
 * entries, verify, restore with fallback to an older snapshot (the loop shared with the directory
 * store), prune by the same retention rules, delete — plus upload (resumable) and download.
 * Opened with `S3SnapshotStore.at({ client, bucket, prefix })`; `store.open(id)` opens one
 * snapshot's bytes.
 *
 * Layout: `<prefix><id>.snap` (snapshot objects), `<prefix>corrupt/<id>.snap.<time>` (snapshots
 * that failed verification, moved aside for inspection). The bucket holds no list of its own:
 * listing reads each snapshot's header and footer with two ranged GETs (cached by ETag), so an
 * object copied in by another tool is listed like one uploaded here, and no list can disagree
 * with the objects.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from './sdk.js';
import { isEntryIterable, type SnapshotApplier, type SnapshotSource } from '../store/source-applier.js';
import type { Readable } from 'node:stream';
import { DEFAULT_BLOCK_SIZE } from '../codec/codec.js';
import { BusyError, ErrorCodes, FormatError, InvalidArgumentError, isCorruptionError, NotFoundError, SnapstreamError, wrapIoError } from '../errors.js';
import { decodeFooter, decodeHeader, FOOTER_FRAME_SIZE, metaFrameLength, MAX_META_PAYLOAD } from '../format/snapshot-frames.js';
import { SKIPPABLE_HEADER } from '../format/skippable.js';
import { durableRename, fsyncFile } from '../sink/durable-file.js';
import { contentBlockLimits } from '../format/content-boundaries.js';
import { EntrySource, type EntryIterable } from '../snapshot/entry-source.js';
import { followBusy, pacingOf } from '../snapshot/background.js';
import { inspectSnapshot, verifySnapshot, type VerifyResult } from '../snapshot/inspect-snapshot.js';
import { SnapshotFramer } from '../snapshot/snapshot-framer.js';
import type { WriteSnapshotOptions } from '../snapshot/write-snapshot.js';
import { Compressor } from '../streams/compressor.js';
import { readJson, writeJsonAtomic } from '../store/atomic-json.js';
import { snapshotsToPrune, type RetentionPolicy } from '../store/retention.js';
import { pruneAfterAdding, SnapshotsInUse } from '../store/snapshots-in-use.js';
import { defaultId } from '../store/default-snapshot-id.js';
import { restoreWithFallback, verifyAllSnapshots, type StoreInternals } from '../store/restore-with-fallback.js';
import type { CreateOptions, OpenSnapshotOptions, RestoreOptions, RestoreResult, SnapshotStore, StoredSnapshot, VerifyAllResult } from '../store/snapshot-store-interface.js';
import { storeProblem, type StoreProblem } from '../store/store-problem.js';
import { createFresh, openExisting } from '../sink/safe-open.js';
import { checkSnapshotId, snapshotIdProblem } from '../snapshot/snapshot-id.js';
import { s3Status, wrapS3Error } from './s3-errors.js';
import { S3Sink, type S3UploadResult } from './s3-sink.js';
import { S3Source } from './s3-source.js';

const SUFFIX = '.snap';

/** Options for {@link S3SnapshotStore.at}. */
export interface S3SnapshotStoreOptions {
  /** The S3 client to send requests with ({@link createS3Client} makes one). */
  client: S3Client;
  /** The bucket the snapshots are in; it must exist. */
  bucket: string;
  /** Key prefix, e.g. `prod/cache-1/` (a trailing slash is added when missing). Default: the bucket's root. */
  prefix?: string;
  /** Part size and parts in flight for uploads. */
  partSize?: number;
  /** Parts in flight per upload. Default: S3Sink's (4). */
  concurrency?: number;
  /** Options for snapshots created from entries. */
  write?: Pick<WriteSnapshotOptions, 'codec' | 'level' | 'blockSize' | 'concurrency'>;
  /**
   * Applied by `prune()` without arguments, and by itself after each `create()` and each
   * `upload()` (see `autoPrune`).
   */
  retention?: RetentionPolicy;
  /**
   * Apply `retention` by itself after each `create()` and `upload()`, never removing the snapshot
   * just added nor one this store instance has in use (an `open(id)` stream not yet closed, a
   * verify, a restore or a download under way). Reads by other processes or other store
   * instances on the same prefix cannot be seen: give those their own prefix or no retention. A
   * failure there does not fail the create or upload: it is reported as a `prune-failure` event.
   * Default true; `create(…, { prune: false })` and `upload(…, { prune: false })` skip it once.
   */
  autoPrune?: boolean;
}

/** A snapshot in the bucket: the disk store's description plus the object's key. */
export interface S3StoredSnapshot extends StoredSnapshot {
  /** The object's key. */
  key: string;
  /** The object's ETag (empty if the server gave none). */
  etag: string;
}

/**
 * Snapshots under an S3 bucket prefix: the {@link SnapshotStore} on object storage (list, create,
 * verify, restore with fallback, prune, delete), plus upload (resumable) and download. Open one
 * with {@link S3SnapshotStore.at}. Events: `created`, `deleted`, `pruned`, `restored`, `corrupt`
 * (`{ id, key, error, movedAside, cause? }`), `unreadable`, `prune-failure` (the error of a
 * retention run after a create or an upload that stands).
 */
export class S3SnapshotStore extends EventEmitter implements SnapshotStore<S3StoredSnapshot> {
  /** The S3 client the store sends requests with. */
  readonly client: S3Client;
  /** The store's bucket. */
  readonly bucket: string;
  /** The key prefix of the store's snapshots: empty, or ending in `/`. */
  readonly prefix: string;
  private readonly described = new Map<string, S3StoredSnapshot>();
  /** What this instance reads or writes: retention leaves them (other processes' reads are not seen). */
  private readonly inUse = new SnapshotsInUse();
  /**
   * What the last {@link S3SnapshotStore.list} skipped, each with its key and a typed error: an
   * object whose name is not a snapshot id, one that is not a snapshot, one that cannot be read.
   */
  problems: StoreProblem[] = [];

  private constructor(
    /** The options the store was opened with. */
    readonly options: S3SnapshotStoreOptions,
  ) {
    super();
    this.client = options.client;
    this.bucket = options.bucket;
    const p = options.prefix ?? '';
    this.prefix = p === '' || p.endsWith('/') ? p : `${p}/`;
  }

  /**
   * Opens the store on a bucket (which must exist) and prefix. (Named `at`, not `open`:
   * `store.open(id)` opens a snapshot.)
   */
  static async at(options: S3SnapshotStoreOptions): Promise<S3SnapshotStore> {
    if (!options.client || !options.bucket) throw new InvalidArgumentError('client and bucket are required');
    try {
      await options.client.send(new sdk.HeadBucketCommand({ Bucket: options.bucket }));
    } catch (err) {
      throw wrapS3Error(err, `opening bucket ${options.bucket}`);
    }
    return new S3SnapshotStore(options);
  }

  /** `s3://bucket/prefix`, for messages. */
  get location(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  /** The key of a snapshot. */
  keyOf(id: string): string {
    return `${this.prefix}${checkSnapshotId(id)}${SUFFIX}`;
  }

  /**
   * Newest first. Objects under the prefix that are not readable snapshots are left out (event
   * `unreadable`) and reported in {@link S3SnapshotStore.problems}.
   */
  async list(): Promise<S3StoredSnapshot[]> {
    const found: S3StoredSnapshot[] = [];
    const problems: StoreProblem[] = [];
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', ContinuationToken: token }));
      } catch (err) {
        throw wrapS3Error(err, `listing s3://${this.bucket}/${this.prefix}`);
      }
      for (const o of res.Contents ?? []) {
        const name = o.Key!.slice(this.prefix.length);
        if (!name.endsWith(SUFFIX)) continue;
        const id = name.slice(0, -SUFFIX.length);
        const badName = snapshotIdProblem(id);
        if (badName !== null) {
          problems.push(storeProblem(o.Key!, new InvalidArgumentError(`${o.Key!}: the name is not a snapshot id (${badName}); skipped`), 'skipping'));
          continue;
        }
        try {
          found.push(await this.describe(id, o.Key!, o.ETag ?? '', o.Size ?? 0));
        } catch (err) {
          if (err instanceof NotFoundError) continue; // deleted since the listing (another node's prune)
          // A failing network fails the listing; one object that is no snapshot, or that this
          // client may not read, is skipped and reported.
          if (!isCorruptionError(err) && !(err instanceof SnapstreamError && err.code === ErrorCodes.AUTH)) throw err;
          problems.push(storeProblem(o.Key!, err, `reading ${o.Key!}`, id));
          this.emit('unreadable', { id, key: o.Key, error: err });
        }
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    this.problems = problems;
    return found.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /** The newest snapshot, or undefined when there is none (lists the prefix). */
  async latest(): Promise<S3StoredSnapshot | undefined> {
    return (await this.list())[0];
  }

  /**
   * One snapshot's description, or undefined when there is none: a HEAD and (unless cached) its
   * header and footer, not a listing.
   */
  async get(id: string): Promise<S3StoredSnapshot | undefined> {
    const key = this.keyOf(id);
    let head;
    try {
      head = await this.client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      const wrapped = wrapS3Error(err, `reading s3://${this.bucket}/${key}`);
      if (wrapped instanceof NotFoundError) return undefined;
      throw wrapped;
    }
    return this.describe(id, key, head.ETag ?? '', head.ContentLength ?? 0);
  }

  /** {@link S3SnapshotStore.get}, a missing snapshot being a NotFoundError. */
  private async mustGet(id: string): Promise<S3StoredSnapshot> {
    const s = await this.get(id);
    if (!s) throw new NotFoundError(`no snapshot ${id} in ${this.location}`);
    return s;
  }

  /**
   * Uploads a finished snapshot file (checked first: a damaged file is not uploaded), resuming an
   * interrupted upload of the same id. The id defaults to the file name without `.snap`. Then
   * applies the store's retention (see `autoPrune`; `prune: false` skips it once), never
   * removing the snapshot just uploaded.
   */
  async upload(file: string, options: { id?: string; signal?: AbortSignal; onPart?: (p: { partNumber: number; size: number }) => void; prune?: boolean } = {}): Promise<S3UploadResult & {
    /** The snapshot's id. */
    id: string;
  }> {
    const id = checkSnapshotId(options.id ?? path.basename(file).replace(/\.snap$/, ''));
    await inspectSnapshot(file);
    const sink = this.sink(id, options.signal);
    if (options.onPart) sink.on('part', options.onPart);
    const release = this.inUse.hold(id);
    try {
      const offset = await sink.resumeOffset();
      await pipeline(fs.createReadStream(file, { start: offset, highWaterMark: 1024 * 1024 }), sink).catch((err: unknown) => {
        throw wrapIoError(err, `uploading ${file}`);
      });
      // Describing it costs a HEAD and two ranged GETs: only for someone listening.
      if (this.listenerCount('created') > 0) this.emit('created', await this.mustGet(id));
    } finally {
      release();
    }
    if (options.prune ?? true) await pruneAfterAdding(this, id);
    return { ...sink.result!, id };
  }

  /**
   * Writes a snapshot of `source` — a {@link SnapshotSource} or any (async) iterable of entries —
   * straight into the bucket (no local file). Not resumable from a cursor: an interrupted create
   * starts again (an upload of a file is the resumable way). Then applies the store's retention
   * (see `autoPrune`; `prune: false` skips it once), never removing the snapshot just created.
   */
  async create(source: SnapshotSource | EntryIterable, meta?: Record<string, unknown>, options: CreateOptions = {}): Promise<S3StoredSnapshot> {
    let id: string;
    let stored: S3StoredSnapshot;
    // An array has an entries() method too: an iterable is entries, whatever else it has.
    const snapshotSource = isEntryIterable(source) ? null : source;
    let release = (): void => {};
    try {
      const fullMeta = { ...((await snapshotSource?.meta?.()) ?? {}), ...(meta ?? {}) };
      const createdAt = Date.now();
      id = checkSnapshotId(options.id ?? defaultId(fullMeta, createdAt));
      release = this.inUse.hold(id);
      const w = this.options.write ?? {};
      const codec = w.codec ?? 'zstd';
      const blockSize = w.blockSize ?? DEFAULT_BLOCK_SIZE;
      // Content-defined blocks, as writeSnapshot makes them: the header records their maximum.
      const maxBlock = contentBlockLimits(blockSize).max;
      // Paced as writeSnapshot paces (background by default).
      const { pace, concurrency, follow } = pacingOf({ ...options, ...(w.concurrency !== undefined ? { concurrency: w.concurrency } : {}) });
      const entries = snapshotSource ? snapshotSource.entries(undefined) : (source as EntryIterable);
      const compressor = new Compressor({ codec, blocks: true, ...(w.level !== undefined ? { level: w.level } : {}), ...(concurrency ? { concurrency } : {}) });
      await pipeline(
        new EntrySource(entries, {
          blockSize,
          boundaries: 'content',
          pace,
          ...(follow ? { onBusy: followBusy(compressor) } : {}),
          ...(snapshotSource?.cursorOf ? { cursorOf: snapshotSource.cursorOf.bind(snapshotSource) } : {}),
        }),
        compressor,
        new SnapshotFramer({ codec, blockSize: maxBlock, meta: fullMeta, createdAt }),
        this.sink(id, options.signal, false),
      );
      stored = await this.mustGet(id);
    } finally {
      release();
      await snapshotSource?.close?.();
    }
    this.emit('created', stored);
    if (options.prune ?? true) await pruneAfterAdding(this, id);
    return stored;
  }

  /** Reads every byte of a snapshot from the bucket and checks it; rejects with the damage found. */
  async verify(id: string, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    return verifySnapshot(this.open(id, options), options);
  }

  /**
   * Verifies every snapshot: those damaged in their own bytes are moved aside under `corrupt/`;
   * those that could not be checked (a codec that cannot run, a failing read) are left (`failed`).
   */
  async verifyAll(): Promise<VerifyAllResult> {
    return verifyAllSnapshots(this, this.internals);
  }

  /**
   * Downloads a snapshot to `file` (via `<file>.partial`, which a later call continues from its
   * length), verifies it, and installs it with fsync and rename. A download that fails
   * verification is removed and the error thrown.
   */
  async download(id: string, file: string, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    const partial = `${file}.partial`;
    // The partial's object version: a partial of another object under the same id (replaced
    // since) is started afresh rather than continued with the new object's bytes.
    const origin = `${partial}.json`;
    const object = await this.mustGet(id);
    const etag = object.etag ?? '';
    // lstat: a link planted at the partial's path is not a partial (it is replaced below).
    const have = await fsp.lstat(partial).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
    try {
      const sameObject = etag !== '' && (await readJson<{ etag?: string }>(origin, {})).etag === etag;
      const start = sameObject && have <= object.size ? have : 0;
      if (start === 0) {
        // The old partial goes before the new record says whose bytes the file holds: a crash
        // between the two must not leave old bytes under the new object's name. (The record's
        // rename fsyncs the directory, the removal with it.)
        await fsp.rm(partial, { force: true });
        await writeJsonAtomic(origin, { etag });
      }
      if (start < object.size || start === 0) {
        // Never through a link planted at the partial's path: a fresh partial replaces the entry,
        // a continued one must be a regular file.
        const handle = start > 0 ? await openExisting(partial, 'r+') : await createFresh(partial);
        await pipeline(this.open(id, { start, ...(options.signal ? { signal: options.signal } : {}), ...(etag ? { etag } : {}) }), handle.createWriteStream({ start }));
      }
    } catch (err) {
      throw wrapIoError(err, `downloading ${id} to ${partial}`);
    }
    let verified: VerifyResult;
    try {
      verified = await verifySnapshot(partial);
    } catch (err) {
      if (isCorruptionError(err)) await Promise.all([fsp.rm(partial, { force: true }), fsp.rm(origin, { force: true })]);
      throw err;
    }
    await fsyncFile(partial);
    await durableRename(partial, file);
    await fsp.rm(origin, { force: true });
    return { ...verified, path: file };
  }


  /**
   * Restores into `applier`, streaming from the bucket: with `id`, that snapshot or an error;
   * without, the newest that verifies — one damaged in its own bytes is aborted, moved aside under
   * `corrupt/` (event `corrupt`), and the next older one tried. Any other failure is thrown.
   */
  async restore(applier: SnapshotApplier, options: RestoreOptions = {}): Promise<RestoreResult<S3StoredSnapshot>> {
    return restoreWithFallback(this, this.internals, applier, options);
  }

  /** What the shared restore and verify loops need: a resuming stream of the object, the move aside. */
  private readonly internals: StoreInternals<S3StoredSnapshot> = {
    bytes: (s, signal) => () => this.open(s.id, { ...(signal ? { signal } : {}), ...(s.etag ? { etag: s.etag } : {}) }),
    quarantine: (s, error) => this.quarantine(s, error),
    hold: (id) => this.inUse.hold(id),
  };

  /** Nothing to release: the S3 client is the caller's. */
  async close(): Promise<void> {}

  /**
   * Applies a retention policy (default: the store's). Never removes the newest snapshot, one
   * this store instance has in use (an `open(id)` stream not yet closed, being created, uploaded,
   * verified, restored or downloaded) or one of `keep`. Reads by other processes cannot be seen.
   */
  async prune(policy: RetentionPolicy | undefined = this.options.retention, now = Date.now(), keep: readonly string[] = []): Promise<string[]> {
    if (!policy) return [];
    const drop = snapshotsToPrune(await this.list(), policy, now, new Set([...this.inUse.ids(), ...keep]));
    for (const id of drop) await this.remove(this.keyOf(id));
    if (drop.length > 0) this.emit('pruned', drop);
    return drop;
  }

  /** Deletes a snapshot's object; a missing one is a NotFoundError, one this instance has in use (an open stream, a restore) a BusyError. */
  async delete(id: string): Promise<void> {
    await this.mustGet(id);
    // As the directory store: not a snapshot this instance is reading or restoring.
    if (this.inUse.has(id)) throw new BusyError(`snapshot ${id} is in use`);
    await this.remove(this.keyOf(id));
    this.emit('deleted', id);
  }

  /**
   * A snapshot object's bytes, as a stream that resumes a broken download by itself (of that
   * object version only, given its `etag`). The snapshot counts as in use until the stream
   * closes: this store's retention leaves it.
   */
  open(id: string, options: OpenSnapshotOptions & { etag?: string } = {}): Readable {
    const { signal, start = 0, etag } = options;
    const stream = new S3Source({ client: this.client, bucket: this.bucket, key: this.keyOf(id), start, ...(signal ? { signal } : {}), ...(etag ? { etag } : {}) });
    const release = this.inUse.hold(id);
    stream.once('close', release);
    return stream;
  }

  private sink(id: string, signal?: AbortSignal, resume = true): S3Sink {
    return new S3Sink({
      client: this.client,
      bucket: this.bucket,
      key: this.keyOf(id),
      resume,
      ...(this.options.partSize ? { partSize: this.options.partSize } : {}),
      ...(this.options.concurrency ? { concurrency: this.options.concurrency } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Header and footer of an object, read with two ranged GETs; cached by ETag. */
  private async describe(id: string, key: string, etag: string, size: number): Promise<S3StoredSnapshot> {
    const cached = this.described.get(key);
    if (cached && cached.etag === etag) return cached;
    if (size < SKIPPABLE_HEADER + FOOTER_FRAME_SIZE) throw new FormatError(`${key} is too small to be a snapshot (${size} bytes)`);
    const first = await this.range(key, 0, Math.min(size, 64 * 1024));
    const payload = metaFrameLength(first, 0)!;
    if (payload > MAX_META_PAYLOAD) throw new FormatError(`${key} has an oversized header`);
    const headerFrame = SKIPPABLE_HEADER + payload <= first.length ? first.subarray(0, SKIPPABLE_HEADER + payload) : await this.range(key, 0, SKIPPABLE_HEADER + payload);
    const header = decodeHeader(headerFrame, 0);
    const footer = decodeFooter(await this.range(key, size - FOOTER_FRAME_SIZE, size), size - FOOTER_FRAME_SIZE);
    const meta = header.meta;
    const stored: S3StoredSnapshot = {
      id,
      key,
      etag,
      ...(typeof meta.index === 'number' ? { index: meta.index } : {}),
      ...(typeof meta.term === 'number' ? { term: meta.term } : {}),
      createdAt: header.createdAt,
      size,
      entries: footer.entriesTotal,
      rawBytes: footer.rawTotal,
      codec: header.codec,
      meta,
    };
    this.described.set(key, stored);
    return stored;
  }

  private async range(key: string, start: number, end: number): Promise<Buffer> {
    try {
      const res = await this.client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      throw wrapS3Error(err, `reading s3://${this.bucket}/${key}`);
    }
  }

  /** Deletes `key`; with `etag`, only while it is still that object (on servers that honour If-Match on DELETE). */
  private async remove(key: string, etag?: string): Promise<void> {
    try {
      await this.client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
    } catch (err) {
      throw wrapS3Error(err, `deleting s3://${this.bucket}/${key}`);
    }
    this.described.delete(key);
  }

  /**
   * Moves a damaged snapshot aside (server-side copy, then delete), only if the object is still
   * the one that failed: the copy and the delete are both tied to its ETag, so one replaced
   * meanwhile (same id, new ETag) is left alone — for the delete, on servers that honour If-Match
   * on DELETE (AWS S3 does; Ceph RGW 16 ignores it, so there a replacement in the moment between
   * the two requests is deleted, its damaged predecessor kept under corrupt/). A move the server
   * refuses (read-only credentials, an object too large to copy) is reported in the `corrupt`
   * event (`movedAside: false`) and does not stop a restore.
   */
  private async quarantine(s: S3StoredSnapshot, error: unknown): Promise<void> {
    const target = `${this.prefix}corrupt/${s.id}${SUFFIX}.${Date.now()}`;
    const notMoved = (err: unknown): void =>
      void this.emit('corrupt', { id: s.id, key: s.key, error, movedAside: false, cause: wrapS3Error(err, `moving s3://${this.bucket}/${s.key} aside`) });
    this.described.delete(s.key);
    try {
      await this.client.send(
        new sdk.CopyObjectCommand({
          Bucket: this.bucket,
          Key: target,
          CopySource: `${this.bucket}/${encodeURIComponent(s.key).replace(/%2F/g, '/')}`,
          ...(s.etag ? { CopySourceIfMatch: s.etag } : {}),
        }),
      );
    } catch (err) {
      return notMoved(err);
    }
    try {
      await this.remove(s.key, s.etag);
    } catch (err) {
      // 412: replaced between the copy and the delete; 404: deleted meanwhile (another node's
      // prune). Either way the copy is the damaged object, and what is under the key is not ours.
      const status = s3Status((err as { cause?: unknown }).cause) ?? (err instanceof NotFoundError ? 404 : undefined);
      if (status !== 412 && status !== 404) return notMoved(err);
    }
    this.emit('corrupt', { id: s.id, key: target, error, movedAside: true });
  }

}
