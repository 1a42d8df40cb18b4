/**
 * ChunkedReceiver: chunk frames → a file, installed atomically once the whole stream's CRC32
 * checks out.
 *
 * Each chunk's CRC is checked before a byte of it is written. Chunks already written (repeats
 * after a reconnect, or a one-way sender that starts again from zero) are ignored; the part of
 * a chunk beyond what is written is kept. Data goes through a ResumableFileSink to
 * `<path>.partial`, so a receiver that is stopped or killed finds on its next start how far it
 * got (`offset`), and the sender need only send from there. At the end frame the total length
 * and the CRC32 of the whole file are checked, then the file is fsync'd and renamed into place;
 * a mismatch discards the partial (its content is wrong somewhere) and fails. `installed` (the
 * event, the flag, the 'installed' outcome) comes only after the final fsync, the rename and the
 * directory fsync have all succeeded; if one fails, the receiver fails with a typed error
 * (SNAP_ERR_IO, SNAP_ERR_NO_SPACE) and the partial still holds every byte, to resume from.
 *
 * As a Writable (object mode) it fails on a bad chunk or a gap; `receive()` instead reports
 * them, for protocols that can ask for a resend.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ChecksumError, FormatError, InvalidArgumentError, isCorruptionError, LimitError, TruncatedError, wrapIoError } from '../errors.js';
import { CHUNK_DATA, CHUNK_END, type ChunkFrame } from '../format/chunk-frame.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { dropBytes } from '../streams/byte-queue.js';
import { nodeStreamOptions, type StageOptions } from '../streams/stage-options.js';
import { fsyncDirectory, fsyncFile } from './durable-file.js';
import { partialPathFor, ResumableFileSink } from './resumable-file-sink.js';

/** What became of a chunk. */
export type ChunkOutcome =
  /** Written (all of it, or the part beyond what was already there). */
  | 'written'
  /** Already written before: ignored. */
  | 'repeat'
  /** Starts beyond what is written: the sender must resend from `offset`. */
  | 'gap'
  /** Failed its CRC: nothing written; the sender must resend it. */
  | 'bad'
  /** The end frame checked out: the file is installed. */
  | 'installed';

/** Options of {@link ChunkedReceiver} (and {@link createChunkedReceiver}). */
export interface ChunkedReceiverOptions extends StageOptions {
  /** The final path. */
  path: string;
  /** Continue an existing `<path>.partial`. Default true. */
  resume?: boolean;
  /** Bytes between fsyncs. */
  syncEvery?: number;
  /** Largest file accepted. Default: no limit. */
  maxSize?: number;
  /**
   * Write the partial with O_DIRECT where the file system allows it (ResumableFileSink's
   * `direct`): the received bytes go to the disk without a copy into the page cache, which was
   * most of a receiver's CPU time. Frames are then taken into the sink's staging before they are
   * in the file: `offset` counts them, `written` and `done` say what the partial holds.
   * Default true.
   */
  direct?: boolean;
  /**
   * The length and CRC32 of the whole file, when the sender knows them. If that very file is
   * already installed under the final name (and no partial is under way), the receiver starts
   * out installed at offset `length` and writes nothing, and an end frame for that file is
   * answered 'installed' again: a sender that lost the answer to its end frame and came back is
   * told the file is there instead of sending all of it again.
   */
  expect?: {
    /** Length of the whole file in bytes. */
    length: number;
    /** CRC32 of the whole file. */
    crc: number;
  };
}

/**
 * Chunk frames → a file at `path`, through `<path>.partial`, installed only after the whole
 * file's length and CRC32 check out. Write frames to it (object mode), or call
 * {@link ChunkedReceiver.receive} to be told about bad chunks and gaps instead of failing.
 */
export class ChunkedReceiver extends Writable {
  /** The final path the file is installed under. */
  readonly path: string;
  /** Where the file grows until it is installed: `<path>.partial`. */
  readonly partialPath: string;
  /**
   * Bytes received and taken (checked and written, or being written, in order): where the next
   * chunk starts. The partial holds {@link ChunkedReceiver.written} of them; a receiver started
   * again resumes from the partial's length.
   */
  offset = 0;
  /** True once the file is installed under its final name. */
  installed = false;
  /**
   * A last check of the whole file, run once its length and CRC32 match the end frame and all of
   * it is written, before it is installed: a delta transfer checks the snapshot's own frames
   * here. Its rejection fails the install; a corruption error (the bytes are wrong) also
   * discards the partial, as a failed whole-file CRC does.
   */
  beforeInstall: ((partialPath: string, length: number, crc: number) => Promise<void>) | null = null;
  /** Settles when every write started so far has. */
  private lastWrite: Promise<unknown> = Promise.resolve();
  /** Settles when the sink has taken every frame accepted so far. */
  private lastTaken: Promise<unknown> = Promise.resolve();
  private crc = 0;
  private sink: ResumableFileSink | null = null;
  private readonly resume: boolean;
  private readonly syncEvery: number | undefined;
  private readonly maxSize: number;
  private readonly direct: boolean;
  private readonly expect: { length: number; crc: number } | undefined;

  constructor(options: ChunkedReceiverOptions) {
    super({ ...nodeStreamOptions(options), objectMode: true, highWaterMark: options.highWaterMark ?? 2 });
    if (typeof options.path !== 'string' || options.path === '') throw new InvalidArgumentError('path is required');
    this.path = options.path;
    this.partialPath = partialPathFor(options.path);
    this.resume = options.resume ?? true;
    this.syncEvery = options.syncEvery;
    this.maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
    this.direct = options.direct ?? true;
    this.expect = options.expect;
  }

  /** Bytes known fsync'd. */
  get durable(): number {
    if (this.installed) return this.offset;
    return this.sink?.durable ?? 0;
  }

  /** Bytes the partial file holds (every write up to there completed): never more than `offset`. */
  get written(): number {
    if (this.installed) return this.offset;
    return this.sink?.written ?? 0;
  }

  /** True when the partial is written with O_DIRECT (see `direct`). */
  get writesDirect(): boolean {
    return this.sink?.direct ?? false;
  }

  /**
   * Resolves once the partial holds `offset` bytes (at once if installed); rejects if a write
   * fails first. What a receiver acknowledges waits for this: never bytes only staged.
   */
  whenWritten(offset: number): Promise<void> {
    if (this.installed || !this.sink || offset <= this.sink.written) return Promise.resolve();
    return this.sink.whenWritten(offset);
  }

  /**
   * Writes every frame taken so far into the partial (with `direct`, bytes may wait in staging
   * for more); resolves once the partial holds `offset` bytes.
   */
  async flush(): Promise<void> {
    if (this.installed || !this.sink) return;
    await this.lastTaken;
    await this.sink.flush();
    await this.sink.whenWritten(this.offset);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.open().then(
      () => {
        this.emit('ready', { offset: this.offset });
        callback();
      },
      (err: unknown) => callback(wrapIoError(err, `opening ${this.partialPath}`)),
    );
  }

  /** Finds how much of the file is already here, and the CRC of it (read back from disk). */
  private async open(): Promise<void> {
    let size = 0;
    if (this.resume) {
      let partial = true;
      try {
        // lstat: a symbolic link (or anything but a file) at the partial's path is not a
        // partial; the sink replaces it, never reading or writing its target.
        const found = await fsp.lstat(this.partialPath);
        size = found.isFile() ? found.size : 0;
      } catch {
        partial = false;
      }
      if (!partial && (await this.alreadyInstalled())) return;
      // A partial longer than the file may grow cannot be its beginning (some other file under
      // the same name): start afresh rather than offer an offset the sender cannot use.
      if (size > this.maxSize) size = 0;
    }
    if (size > 0) this.crc = await fileCrc(this.partialPath, size);
    this.offset = size;
    this.sink = new ResumableFileSink({
      path: this.path,
      resumeAt: size,
      direct: this.direct,
      ...(this.syncEvery !== undefined ? { syncEvery: this.syncEvery } : {}),
    });
    this.sink.on('error', () => {}); // errors reach us through write callbacks
    await new Promise<void>((resolve, reject) => {
      this.sink!.once('ready', resolve);
      this.sink!.once('error', reject);
    });
  }

  /** True (and the receiver marked installed) if the expected file is already in place. */
  private async alreadyInstalled(): Promise<boolean> {
    const expect = this.expect;
    if (!expect) return false;
    const stat = await fsp.stat(this.path).catch(() => null);
    if (!stat?.isFile() || stat.size !== expect.length) return false;
    if ((await fileCrc(this.path, stat.size)) !== expect.crc) return false;
    // Confirmed only once durable: the earlier install may have failed at its directory fsync.
    await fsyncFile(this.path);
    await fsyncDirectory(path.dirname(this.path));
    this.offset = stat.size;
    this.crc = expect.crc;
    this.installed = true;
    return true;
  }

  /** Takes one frame; reports what became of it instead of failing on a bad chunk or a gap. */
  async receive(frame: ChunkFrame): Promise<ChunkOutcome> {
    const { outcome, done } = this.accept(frame);
    await done;
    return outcome;
  }

  /**
   * Takes one frame and decides at once what becomes of it (`offset` moves on immediately);
   * `done` settles when its bytes are in the partial (or, for the end frame, the file installed),
   * `taken` sooner, once the file sink has taken them (with `direct`, copied into its staging):
   * the frame's memory is free again then. Frames may be accepted while earlier writes are still
   * under way: writes stay in order.
   */
  accept(frame: ChunkFrame): {
    /** What becomes of the frame. */
    outcome: ChunkOutcome;
    /** Settles when the frame's bytes are in the partial, or the file installed; rejects if that fails. */
    done: Promise<unknown>;
    /** Settles when the file sink has taken the frame's bytes (no later than `done`). */
    taken: Promise<unknown>;
  } {
    const now = (outcome: ChunkOutcome) => ({ outcome, done: Promise.resolve(), taken: Promise.resolve() });
    if (this.installed) {
      // The end frame of the file as installed is answered as before: its answer may have been lost.
      const same = frame.type === CHUNK_END && frame.offset === this.offset && frame.crc32 === this.crc;
      return same ? { outcome: 'installed', done: Promise.resolve('installed'), taken: Promise.resolve() } : now('repeat');
    }
    if (frame.type === CHUNK_END) {
      const done = this.finish(frame);
      return { outcome: frame.offset > this.offset ? 'gap' : 'installed', done, taken: done };
    }
    const parts = frame.parts ?? (frame.data ? [frame.data] : null);
    if (frame.type !== CHUNK_DATA || !parts) throw new FormatError(`chunk ${frame.seq} is not a data or end frame`);
    let length = 0;
    let crc = 0;
    for (const p of parts) {
      length += p.length;
      crc = crc32(p, crc);
    }
    if (length !== frame.length || crc !== frame.crc32) return now('bad');
    if (frame.offset > this.offset) return now('gap');
    const end = frame.offset + length;
    if (end <= this.offset) return now('repeat');
    if (end > this.maxSize) {
      throw new LimitError(`the file grows past its limit of ${this.maxSize} bytes`, { offset: frame.offset, expected: this.maxSize, actual: end });
    }
    const fresh = frame.offset === this.offset ? parts : dropBytes(parts, this.offset - frame.offset);
    const freshCrc = frame.offset === this.offset ? crc : fresh.reduce((c, p) => crc32(p, c), 0);
    this.crc = crc32Combine(this.crc, freshCrc, end - this.offset);
    this.offset = end;
    const taken = this.writeSink(fresh);
    const sink = this.sink!;
    const done = taken.then(() => sink.whenWritten(end)).then(() => void this.emit('progress', { bytes: end, entries: 0 }));
    this.lastTaken = taken.catch(() => {});
    this.lastWrite = done.catch(() => {});
    return { outcome: 'written', done, taken };
  }

  override _write(frame: ChunkFrame, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let accepted: ReturnType<ChunkedReceiver['accept']>;
    try {
      accepted = this.accept(frame);
    } catch (err) {
      return callback(err as Error);
    }
    if (accepted.outcome === 'written') {
      // The next frame may come once the sink has taken this one; a write failing later fails the stream.
      accepted.done.catch((err: unknown) => this.destroy(err as Error));
      accepted.taken.then(
        () => callback(),
        (err: unknown) => callback(err as Error),
      );
      return;
    }
    accepted.done.then(() => accepted.outcome).then(
      (outcome) => {
        if (outcome === 'bad') {
          callback(new ChecksumError(`chunk ${frame.seq} at stream offset ${frame.offset} fails its CRC32`, { offset: frame.offset, seq: frame.seq }));
        } else if (outcome === 'gap') {
          callback(new FormatError(`chunk ${frame.seq} starts at ${frame.offset}, beyond the ${this.offset} bytes received`, {
            offset: frame.offset,
            seq: frame.seq,
            expected: this.offset,
            actual: frame.offset,
          }));
        } else callback();
      },
      (err: unknown) => callback(err as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.installed) return callback();
    callback(new TruncatedError(`the chunk stream ended at byte ${this.offset} without its end frame`, { offset: this.offset }));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const sink = this.sink;
    if (!sink || sink.destroyed || this.installed) return callback(err);
    sink.destroy();
    sink.once('close', () => callback(err));
  }

  private async finish(frame: ChunkFrame): Promise<ChunkOutcome> {
    if (frame.offset !== this.offset) {
      if (frame.offset > this.offset) return 'gap';
      throw new FormatError(`the end frame says ${frame.offset} bytes, but ${this.offset} were received`, {
        offset: this.offset,
        expected: frame.offset,
        actual: this.offset,
      });
    }
    if (frame.crc32 !== this.crc) {
      // The bytes on disk are wrong somewhere: keeping them would only fail again.
      await this.discard();
      throw new ChecksumError('the CRC32 of the whole file does not match the end frame: the partial file was discarded', {
        expected: frame.crc32,
        actual: this.crc,
      });
    }
    if (this.beforeInstall) {
      // Everything in the file before it is read back (a write that failed fails here, as an
      // I/O error: nothing says the bytes are wrong).
      await this.flush();
      await this.lastWrite;
      try {
        await this.beforeInstall(this.partialPath, this.offset, this.crc);
      } catch (err) {
        if (isCorruptionError(err)) await this.discard();
        throw err;
      }
    }
    const sink = this.sink!;
    // `end`'s callback gets the error of a failed final step (fsync, rename, directory fsync):
    // the file is installed only if none failed, and only then may anyone be told so.
    const failed = await new Promise<unknown>((resolve) => sink.end((err?: Error | null) => resolve(err ?? (sink.installed ? null : sink.errored))));
    if (failed || !sink.installed) {
      await this.keepPartial();
      throw wrapIoError(failed ?? new Error('the file was not installed'), `installing ${this.path}`);
    }
    this.installed = true;
    this.emit('installed', { path: this.path, bytes: this.offset });
    return 'installed';
  }

  /** Removes the partial (its bytes are wrong somewhere). */
  private async discard(): Promise<void> {
    const sink = this.sink!;
    sink.destroy();
    await new Promise((resolve) => sink.once('close', resolve));
    await fsp.rm(this.partialPath, { force: true });
  }

  /**
   * After a failed install, makes sure everything received is still in the partial, for a later
   * run to resume: only a failed directory fsync comes after the rename, and then the file,
   * not known durable under its final name, is moved back.
   */
  private async keepPartial(): Promise<void> {
    if (await exists(this.partialPath)) return;
    const stat = await fsp.stat(this.path).catch(() => null);
    if (stat?.isFile() && stat.size === this.offset) await fsp.rename(this.path, this.partialPath).catch(() => {});
  }

  /** Writes the pieces in order; resolves when the sink has taken the last (with `direct`, before it is in the file). */
  private writeSink(parts: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const sink = this.sink!;
      sink.cork();
      parts.forEach((p, i) => sink.write(p, i === parts.length - 1 ? (err) => (err ? reject(err) : resolve()) : undefined));
      process.nextTick(() => sink.uncork());
    });
  }
}

async function exists(file: string): Promise<boolean> {
  return (await fsp.lstat(file).catch(() => null)) !== null;
}

/** CRC32 of the first `length` bytes of a file. */
async function fileCrc(path: string, length: number): Promise<number> {
  let crc = 0;
  if (length === 0) return crc;
  let read = 0;
  for await (const chunk of fs.createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc);
    read += chunk.length;
  }
  if (read !== length) throw new TruncatedError(`${path} shrank while being read`, { expected: length, actual: read });
  return crc;
}

/** Creates a {@link ChunkedReceiver}. */
export function createChunkedReceiver(options: ChunkedReceiverOptions): ChunkedReceiver {
  return new ChunkedReceiver(options);
}
