/**
 * Compressor: bytes → frames. Input is cut into blocks (default 1 MiB); each block becomes an
 * independent standard frame (zstd, LZ4, or for `none` a zstd frame of stored blocks), so the
 * output is a valid `.zst` / `.lz4` stream. Several blocks are compressed at once, off the main
 * thread, and emitted in order.
 *
 * With `blocks: true` the stream is in object mode: {@link RawBlock} in, {@link CompressedBlock}
 * out, one frame per block as given (how snapshot files keep records whole within blocks).
 */
import type { TransformCallback } from 'node:stream';
import { compressBlock } from '../codec/block-codec.js';
import { checkBlockSize, checkCodec, checkLevel, DEFAULT_BLOCK_SIZE, DEFAULT_ZSTD_LEVEL, type CodecName } from '../codec/codec.js';
import { sharedPool, WORKER_QUEUE_DEPTH } from '../codec/worker-pool.js';
import { InvalidArgumentError } from '../errors.js';
import type { CompressedBlock, RawBlock } from '../format/block.js';
import { allocBlock } from '../format/block-buffers.js';
import { copyInto } from '../format/copy-into.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { OrderedTransform } from './ordered-transform.js';
import { ownTimeOf, type OwnTime } from './own-time.js';
import type { StageOptions } from './stage-options.js';

/** Options of {@link Compressor} (and {@link createCompressor}). */
export interface CompressorOptions extends StageOptions {
  /** `zstd` (default), `lz4` or `none`. */
  codec?: CodecName;
  /** zstd level, −7 to 22. Default 1. */
  level?: number;
  /** Bytes per block in byte mode. Default 1 MiB. */
  blockSize?: number;
  /**
   * Blocks in flight at once. Default for zstd: enough to keep every worker thread's queue
   * full, and in byte mode one more per worker waiting for whichever is free first; for lz4, one
   * per core (each block is 256 KiB pieces on libuv's pool, all at once).
   */
  concurrency?: number;
  /** Object mode: RawBlock in, CompressedBlock out. */
  blocks?: boolean;
  /**
   * Block mode: give each CompressedBlock its frame's `digest` (for a SnapshotFramer), hashed
   * off the main thread. Default true in block mode; ignored in byte mode.
   */
  digests?: boolean;
}

/**
 * Bytes → compressed frames: one standard zstd or LZ4 frame per block (`none`: a zstd frame of
 * stored blocks), so the output is a valid `.zst` / `.lz4` stream; {@link RawBlock} in,
 * {@link CompressedBlock} out with `blocks: true`. Made by {@link createCompressor}.
 */
export class Compressor extends OrderedTransform<CompressedBlock> {
  /** The codec in use. */
  readonly codec: CodecName;
  /** The zstd level in use (ignored by `lz4` and `none`). */
  readonly level: number;
  /** Bytes per block in byte mode. */
  readonly blockSize: number;
  /**
   * Given only by a recipe that built the whole pipeline: input lent along it is taken over
   * (moved to a worker, reused), and frames are made in pooled memory lent to the next stages.
   */
  private readonly leases: Leases | null;
  private readonly digests: boolean;
  /** A recipe's account of its pipeline's own main-thread time (own-time.ts). */
  private readonly ownTime: OwnTime | null;
  private block: Buffer | null = null;
  private filled = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private entries = 0;
  private frames = 0;

  constructor(options: CompressorOptions = {}) {
    const codec = checkCodec(options.codec ?? 'zstd');
    const level = checkLevel(options.level ?? DEFAULT_ZSTD_LEVEL);
    const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
    super(options, defaultConcurrency(codec, options.blocks === true));
    this.codec = codec;
    this.level = level;
    this.blockSize = blockSize;
    this.leases = leasesOf(options);
    this.digests = this.blockMode && options.digests !== false;
    this.ownTime = ownTimeOf(options);
  }

  override _transform(chunk: Buffer | RawBlock, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.blockMode) {
      const raw = chunk as RawBlock;
      if (!raw || !Buffer.isBuffer(raw.data)) {
        return callback(new InvalidArgumentError('Compressor in block mode takes { data: Buffer, entries }'));
      }
      // A block anyone else gave us stays theirs: it is copied for the worker, never moved or reused.
      this.submit(raw.data, this.leases?.takeOver(raw.data) === true, raw.entries ?? 0, raw.cursor);
    } else {
      this.assemble(chunk as Buffer);
    }
    this.whenRoom(() => callback());
  }

  override _flush(callback: TransformCallback): void {
    if (!this.blockMode && (this.filled > 0 || this.frames === 0)) {
      // Flush the last partial block; an empty input still gets one (empty) frame so the
      // output is a valid compressed file.
      this.submit(this.block ? this.block.subarray(0, this.filled) : Buffer.alloc(0), true, 0, undefined, true);
      this.block = null;
    }
    this.results.whenEmpty(() => callback());
  }

  private assemble(chunk: Buffer): void {
    if (this.filled === 0 && chunk.length === this.blockSize && this.leases?.takeOver(chunk, true)) {
      // A whole block lent to us alone (compressFile's reader): no copy.
      this.submit(chunk, true, 0, undefined);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      // Shared memory: the block only goes to a worker thread and back to the pool.
      this.block ??= allocBlock(this.blockSize, true);
      const take = Math.min(this.blockSize - this.filled, chunk.length - at);
      copyInto(this.block, chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.blockSize) {
        this.submit(this.block, true, 0, undefined);
        this.block = null;
        this.filled = 0;
      }
    }
    this.leases?.giveBack(chunk); // copied out: if it was lent to us alone, its memory can be reused
  }

  private submit(data: Buffer, owned: boolean, entries: number, cursor: unknown, last = false): void {
    const rawLength = data.length;
    this.frames++;
    this.results.add(
      // Block mode: blocks of up to blockSize bytes, of varying sizes: frames pooled at one size.
      // Byte mode probes each block on this thread while no worker runs: data that does not
      // compress is stored here, without starting one (lib/codec/stored-probe.ts). Block mode
      // leaves it to the workers: there this thread is busy encoding entries.
      // The frame's CRC goes into a block-mode CompressedBlock, or to a recipe's CrcFooter; a
      // byte-mode frame is anyone's, whose CrcFooter hashes what it is given: none is computed.
      compressBlock(this.codec, this.level, data, owned, this.leases, this.digests, this.blockMode ? this.blockSize : 0, this.blockMode ? false : last ? 'last' : 'block', this.blockMode || this.leases !== null).then((r) => ({
        frame: r.data,
        crc: r.crc,
        ...(r.digest ? { digest: r.digest } : {}),
        rawLength,
        entries,
        cursor,
      })),
    );
  }

  protected override deliver(out: CompressedBlock): void {
    // The push runs the stages after this one (framing, the start of a write): the recipe's own work.
    this.ownTime?.enter();
    try {
      this.bytesIn += out.rawLength;
      this.bytesOut += out.frame.length;
      this.entries += out.entries;
      // The recipe's CrcFooter extends its running CRC from this instead of re-reading the frame.
      this.leases?.rememberCrc(out.frame, out.crc);
      this.push(this.blockMode ? out : out.frame);
      this.emit('progress', { bytes: this.bytesIn, entries: this.entries, compressedBytes: this.bytesOut });
    } finally {
      this.ownTime?.leave();
    }
  }
}

/**
 * lz4 at one block per core was as fast as at two and held less memory: lz4-napi's allocator
 * keeps more per busy pool thread (docs/BENCHMARKS.md, "Why the write side is built as it is").
 *
 * zstd in byte mode: one more block per worker than their queues hold, waiting in the pool. Frames
 * leave in order, so a block held up on one worker (the main thread or another process took its
 * core) used to stop new blocks for both until it was done, and the other worker, its queue
 * emptied, slept; a block waiting in the pool goes to whichever worker is free first (the
 * workers' time without a job, `npm run bench:timeline`: docs/BENCHMARKS.md). Block mode (writeSnapshot) keeps
 * the queues' count: its blocks are up to twice as large, and its memory is at its target.
 */
function defaultConcurrency(codec: CodecName, blockMode: boolean): number {
  const cores = sharedPool().size;
  return codec === 'zstd' ? cores * WORKER_QUEUE_DEPTH + (blockMode ? 0 : cores) : cores;
}

/** Creates a {@link Compressor}. */
export function createCompressor(options?: CompressorOptions): Compressor {
  return new Compressor(options);
}
