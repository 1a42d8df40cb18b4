/**
 * ResumableFileSink: bytes → a file, crash-safely.
 *
 * Writes go to `<path>.partial`, fsync'd every `syncEvery` bytes (a checkpoint, in the
 * background: writing goes on meanwhile, and `durable` moves when the fsync is done). On a clean end
 * the partial is fsync'd, renamed to `path`, and the directory fsync'd: the final name only ever
 * holds a whole file. On error, abort or destroy the partial is kept as it is, so a later run can
 * resume it (`resumeAt` continues writing at that offset, truncating anything after it).
 *
 * With `direct`, the partial is written around the page cache (O_DIRECT, direct-writer.ts) where
 * the file system allows it: a write's callback then means its bytes are taken (copied into the
 * sink's own staging), `written` and {@link ResumableFileSink.whenWritten} say what the file
 * holds.
 *
 * Events: `ready` once the partial is open, `progress` `{ bytes, entries }`, `checkpoint`
 * `{ offset }` after each fsync, and
 * `installed` `{ path, bytes }` once the final rename is durable.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { InvalidArgumentError, TruncatedError, wrapIoError } from '../errors.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { dropBytes } from '../streams/byte-queue.js';
import { nodeStreamOptions, type StageOptions } from '../streams/stage-options.js';
import { DirectWriter } from './direct-writer.js';
import { durableRename } from './durable-file.js';
import { createFresh, openExisting } from './safe-open.js';

/** Default bytes between fsyncs: 64 MiB, well under a second of writing on these disks. */
export const DEFAULT_SYNC_EVERY = 64 * 1024 * 1024;

/**
 * The most bytes at the end of a partial that a crash may have left unsynced, for a sink
 * writing with `syncEvery`: a checkpoint runs beside the writes that follow it, and writing
 * waits for it only when the next is due, so up to two intervals plus the writes queued
 * meanwhile (bounded by the stream's buffer; 16 MiB is far more). With `syncEvery` 0, all of it.
 */
export function unsyncedTail(syncEvery = DEFAULT_SYNC_EVERY): number {
  return syncEvery > 0 ? 2 * syncEvery + 16 * 1024 * 1024 : Number.POSITIVE_INFINITY;
}

/** Options of {@link ResumableFileSink} (and {@link createResumableFileSink}). */
export interface ResumableFileSinkOptions extends StageOptions {
  /** The final path; data goes to `partialPath` until the end. */
  path: string;
  /** Where data is written until it is whole. Default `<path>.partial`. */
  partialPath?: string;
  /** Keep the first `resumeAt` bytes of an existing partial and write after them. Default 0 (start afresh). */
  resumeAt?: number;
  /** Bytes between fsyncs (each runs beside the writes that follow it). Default 64 MiB; 0 syncs only at the end. */
  syncEvery?: number;
  /** File mode for a new partial. Default 0o644. */
  mode?: number;
  /**
   * Write the partial with O_DIRECT, around the page cache, where the file system allows it
   * (silently through the page cache where it does not: tmpfs, or a platform without O_DIRECT).
   * Bytes are copied into staging memory of the sink's own and written in whole blocks of several
   * MiB; a write's callback comes once its bytes are taken, and `written`, `progress` and
   * {@link ResumableFileSink.whenWritten} follow what the file holds. What is staged is written
   * when the input goes idle, at the end, on {@link ResumableFileSink.flush} and on destroy.
   * The page cache is left cold: a read of the file right after comes from the disk. Default false.
   */
  direct?: boolean;
}

/** Where a file being written to `path` lives until it is whole: `<path>.partial`. */
export function partialPathFor(path: string): string {
  return `${path}.partial`;
}

/**
 * Bytes → a file, crash-safely: written to `partialPath`, fsync'd at checkpoints, and renamed to
 * `path` only when whole. On failure the partial is kept for a later run to resume.
 */
export class ResumableFileSink extends Writable {
  /** The final path. */
  readonly path: string;
  /** Where data is written until it is whole. */
  readonly partialPath: string;
  private readonly resumeAt: number;
  private readonly syncEvery: number;
  private readonly mode: number;
  /** A recipe's pipeline (writeSnapshot, compressFile): frames lent along it go back to the pool once written. */
  private readonly leases: Leases | null;
  private handle: FileHandle | null = null;
  private readonly wantDirect: boolean;
  /** The O_DIRECT writer, when `direct` was asked for and the file system allows it. */
  private writer: DirectWriter | null = null;
  /** Callers of whenWritten, by offset (in the order asked). */
  private waiters: { offset: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Bytes in the partial file (written, not necessarily durable). */
  written: number;
  /** Bytes known durable (fsync'd). */
  durable: number;
  private sinceSync = 0;
  /** The final fsync and rename, once begun. */
  private installing: Promise<void> | null = null;
  /** A checkpoint's fsync in flight. */
  private syncing: Promise<void> | null = null;
  private syncError: unknown = null;
  /** True once the final file is installed. */
  installed = false;

  constructor(options: ResumableFileSinkOptions) {
    // Checked before super(): a constructed Writable schedules _construct (opening the partial),
    // which a later throw here would not cancel, leaving a stream that errors with no listener.
    if (typeof options?.path !== 'string' || options.path === '') throw new InvalidArgumentError('path is required');
    const resumeAt = options.resumeAt ?? 0;
    if (!Number.isSafeInteger(resumeAt) || resumeAt < 0) throw new InvalidArgumentError('resumeAt must be a non-negative integer');
    const syncEvery = options.syncEvery ?? DEFAULT_SYNC_EVERY;
    if (!Number.isSafeInteger(syncEvery) || syncEvery < 0) throw new InvalidArgumentError('syncEvery must be a non-negative integer');
    super({ ...nodeStreamOptions(options), decodeStrings: true });
    this.leases = leasesOf(options);
    this.path = options.path;
    this.partialPath = options.partialPath ?? partialPathFor(options.path);
    this.resumeAt = resumeAt;
    this.syncEvery = syncEvery;
    this.mode = options.mode ?? 0o644;
    this.wantDirect = options.direct ?? false;
    this.written = resumeAt;
    this.durable = resumeAt;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    // Destroyed inside the constructor (an already-aborted signal): open nothing, or the handle
    // would outlive the stream (its _destroy has already run).
    if (this.destroyed) return callback();
    this.open().then(
      () => {
        callback();
        this.emit('ready');
      },
      (err: unknown) => callback(wrapIoError(err, `opening ${this.partialPath}`)),
    );
  }

  private async open(): Promise<void> {
    if (this.resumeAt > 0) {
      // Never through a symbolic link planted at the partial's path.
      this.handle = await openExisting(this.partialPath, 'r+');
      // Never extend a partial that shrank since it was analysed: that would be zeros, not data.
      const { size } = await this.handle.stat();
      if (size < this.resumeAt) {
        await this.handle.close();
        this.handle = null;
        throw new TruncatedError(`${this.partialPath} holds ${size} bytes, fewer than the ${this.resumeAt} to resume after`, {
          expected: this.resumeAt,
          actual: size,
        });
      }
      await this.handle.truncate(this.resumeAt);
      // What is kept counts as durable only once it is on disk.
      await this.handle.sync();
    } else {
      // A new file in place of whatever is there: a link planted at the path is replaced, its
      // target never written.
      this.handle = await createFresh(this.partialPath, this.mode);
    }
    if (this.wantDirect) {
      this.writer = await DirectWriter.open(this.partialPath, this.handle, this.resumeAt, {
        written: (written) => this.grew(written),
        failed: (err) => this.failWaiters(err),
      });
    }
  }

  /**
   * True when the partial is written with O_DIRECT (asked for with `direct`, and allowed by the
   * file system so far); known once `ready` has been emitted.
   */
  get direct(): boolean {
    return this.writer !== null && !this.writer.refused;
  }

  /**
   * Resolves once the partial holds `offset` bytes (every write up to there completed); rejects
   * if a write fails or the sink is destroyed first. Without `direct`, a write's callback already
   * means that.
   */
  whenWritten(offset: number): Promise<void> {
    if (offset <= this.written) return Promise.resolve();
    if (this.destroyed) return Promise.reject(wrapIoError(this.errored ?? new Error('the bytes were never written'), `writing ${this.partialPath}`));
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  /**
   * Writes the bytes taken so far (those whose write callback has come) into the partial, staged
   * ones included; resolves once it holds them. Without `direct`, there are none.
   */
  async flush(): Promise<void> {
    if (this.writer) await this.writer.flush().catch((err: unknown) => Promise.reject(wrapIoError(err, `writing ${this.partialPath}`)));
  }

  /** The partial grew to `written` bytes: its waiters are told, and `progress` emitted. */
  private grew(written: number): void {
    this.written = written;
    if (this.waiters.length > 0) {
      const due = this.waiters.filter((w) => w.offset <= written);
      this.waiters = this.waiters.filter((w) => w.offset > written);
      for (const w of due) w.resolve();
    }
    this.emit('progress', { bytes: written, entries: 0 });
  }

  private failWaiters(err: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(wrapIoError(err, `writing ${this.partialPath}`));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => callback(), (err: unknown) => callback(wrapIoError(err, `writing ${this.partialPath}`)));
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(
      () => callback(),
      (err: unknown) => callback(wrapIoError(err, `writing ${this.partialPath}`)),
    );
  }

  private async writeAll(chunks: Buffer[]): Promise<void> {
    if (this.syncError !== null) throw this.syncError;
    const handle = this.handle!;
    let total = 0;
    for (const c of chunks) total += c.length;
    const writer = this.writer;
    if (writer) {
      // Copied into the writer's staging: the chunks are free again once it has them.
      for (const c of chunks) await writer.append(c);
      if (this.leases) for (const c of chunks) this.leases.giveBack(c);
      return this.afterWrite(total);
    }
    let done = 0;
    let pending = chunks;
    // writev may write less than asked (a signal, a nearly full disk): continue where it stopped.
    while (done < total) {
      const { bytesWritten } = await handle.writev(pending, this.written);
      if (bytesWritten === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
      this.written += bytesWritten;
      done += bytesWritten;
      pending = dropBytes(pending, bytesWritten);
    }
    // Frames lent along a recipe's pipeline (pooled memory) are free again once written.
    if (this.leases) for (const c of chunks) this.leases.giveBack(c);
    this.grew(this.written);
    return this.afterWrite(total);
  }

  /** Counts `total` bytes toward the next checkpoint, and starts it when due. */
  private async afterWrite(total: number): Promise<void> {
    this.sinceSync += total;
    if (this.syncEvery > 0 && this.sinceSync >= this.syncEvery) {
      // The disk is a whole checkpoint behind: wait for it, so durable never lags further.
      await this.settleSync();
      this.syncing = this.sync();
    }
  }

  /**
   * fsyncs what is written so far and reports it as a checkpoint. Checkpoints run beside the
   * writes rather than holding them up: the disk flushes one stretch while the next is written,
   * and the last fsync finds little left to do (a 1 GiB compressFile waited ≈ 0.2 s for one
   * fsync at the end). Writing waits only when the next checkpoint is due and the last one is
   * still running. A failed one fails the next write.
   */
  private async sync(): Promise<void> {
    const offset = this.written;
    this.sinceSync = 0;
    try {
      await this.handle!.sync();
      this.durable = Math.max(this.durable, offset);
      this.emit('checkpoint', { offset });
    } catch (err) {
      this.syncError ??= err;
    } finally {
      this.syncing = null;
    }
  }

  /** Waits for a checkpoint in flight; throws if one failed. */
  private async settleSync(): Promise<void> {
    await this.syncing;
    if (this.syncError !== null) throw this.syncError;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.installing = this.install();
    this.installing.then(() => callback(), (err: unknown) => callback(wrapIoError(err, `installing ${this.path}`)));
  }

  private async install(): Promise<void> {
    if (this.writer) {
      await this.writer.flush();
      await this.writer.close();
      this.writer = null;
    }
    await this.settleSync();
    await this.sync();
    await this.settleSync();
    await this.handle!.close();
    this.handle = null;
    await durableRename(this.partialPath, this.path);
    this.installed = true;
    this.emit('installed', { path: this.path, bytes: this.written });
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // The partial stays: it is what a later run resumes from.
    const close = (): void => {
      const writer = this.writer;
      this.writer = null;
      // What is staged is written first (the partial keeps every byte taken), then the writes
      // in flight are waited for: the descriptor is closed only once no write uses it.
      const closing = writer ? writer.close().catch(() => {}) : Promise.resolve();
      void closing.then(() => {
        this.failWaiters(err ?? Object.assign(new Error('the file sink was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
        const handle = this.handle;
        this.handle = null;
        if (!handle) return callback(err);
        handle.close().then(
          () => callback(err),
          () => callback(err),
        );
      });
    };
    // Destroyed (aborted, say) while installing: the install finishes first, closing the file
    // and renaming it or not, so that `installed` is true to what happened when 'close' comes.
    if (this.installing) this.installing.then(close, close);
    else close();
  }
}

/** Creates a {@link ResumableFileSink}. */
export function createResumableFileSink(options: ResumableFileSinkOptions): ResumableFileSink {
  return new ResumableFileSink(options);
}
