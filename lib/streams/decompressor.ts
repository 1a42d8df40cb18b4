/**
 * Decompressor: frames → bytes. Reads any sequence of zstd, LZ4 and skippable frames, so it
 * takes snapstream output and files made by the stock `zstd` and `lz4` tools alike; the codec
 * is found from each frame's magic number. Skippable frames are skipped, as the stock tools do.
 *
 * Frames of known, moderate size are decoded whole, several at once on worker threads; larger
 * frames, and frames of unknown size, are decoded incrementally as they arrive, so memory stays
 * bounded whatever the input.
 *
 * With `blocks: true` the stream is in object mode: {@link FrameInput} objects in
 * (`{ frame, rawLength, crc? }` plus any fields, which are passed on), `{ data, ...fields }` out.
 */
import type { TransformCallback } from 'node:stream';
import type { FramePlacement } from '../codec/block-codec.js';
import { checkFrameBound } from '../codec/frame-bound.js';
import { FrameWalker, parseFrameHeader, type FrameHeader } from '../codec/frame-format.js';
import { Lz4FrameDecoder } from '../codec/lz4-frame-decoder.js';
import { takeStoredContent } from '../codec/stored-frame-content.js';
import type { StreamingFrameDecoder } from '../codec/streaming-frame-decoder.js';
import { defaultPoolSize } from '../codec/pool-size.js';
import { ZstdStreamDecoder } from '../codec/zstd-stream-decoder.js';
import { ChecksumError, FormatError, InvalidArgumentError, LimitError, TruncatedError } from '../errors.js';
import { crc32 } from '../format/crc32.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { ByteQueue } from './byte-queue.js';
import { OrderedTransform } from './ordered-transform.js';
import type { StageOptions } from './stage-options.js';

/** Frames up to this size (compressed and decompressed) are decoded whole on worker threads. */
export const WHOLE_FRAME_LIMIT = 16 * 1024 * 1024;
/** Upper bound on a block's declared size in block mode. */
export const MAX_RAW_BLOCK = 256 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

type Codecs = [typeof import('../codec/block-codec.js'), typeof import('../codec/lz4-block-decoder.js')];
let codecModules: Promise<Codecs> | null = null;

/**
 * The decoders of compressed frames (and the worker pool), loaded when first needed: frames of
 * stored blocks need none of them, and a fresh process (the CLI's `decompress`) pays for every
 * module it loads (docs/BENCHMARKS.md, "Data that does not compress", session 9).
 */
function codecs(): Promise<Codecs> {
  codecModules ??= Promise.all([import('../codec/block-codec.js'), import('../codec/lz4-block-decoder.js')]);
  return codecModules;
}

/** Options of {@link Decompressor} (and {@link createDecompressor}). */
export interface DecompressorOptions extends StageOptions {
  /** Frames decoded at once. Default: one per worker thread (at least 2). */
  concurrency?: number;
  /** Object mode: compressed blocks in, `{ data, ...fields }` out. */
  blocks?: boolean;
}

type Output = Buffer | Buffer[] | Record<string, unknown>;

/** A frame to decode in block mode; other fields are passed on with the output. */
export interface FrameInput {
  /** One whole zstd or LZ4 frame. */
  frame: Buffer;
  /** Bytes the frame decompresses to (at most 256 MiB). */
  rawLength: number;
  /** If given, the frame's CRC32 must match. */
  crc?: number;
  /** The frame's place in its file, for error messages. */
  offset?: number;
  [field: string]: unknown;
}

/**
 * Compressed frames → bytes: any sequence of zstd, LZ4 and skippable frames in (snapstream's
 * output or the stock tools'), the decompressed bytes out; {@link FrameInput}s in and
 * `{ data, ...fields }` out with `blocks: true`. Made by {@link createDecompressor}.
 */
export class Decompressor extends OrderedTransform<Output> {
  private readonly input = new ByteQueue();
  private offset = 0; // stream offset of the front of `input`
  private header: FrameHeader | null = null;
  private walker: FrameWalker | null = null;
  private streaming: StreamingFrameDecoder | null = null;
  private skipping = 0;
  private bytesOut = 0;
  /**
   * Given only by readSnapshot: frames lent along its pipeline are taken over (moved to a
   * worker), and decompressed blocks in pooled memory are lent to its EntryDecoder. Its first
   * blocks are decoded on this thread while the worker threads start (block-codec.ts).
   */
  private readonly leases: Leases | null;
  /** Frames were decoded on this thread while the worker threads started: the ones their placement used (0: none). */
  private hereWorkers = 0;

  constructor(options: DecompressorOptions = {}) {
    // One block per worker: with more, the decompressed blocks outrun V8's collections of them
    // and peak memory grows for no speed (docs/BENCHMARKS.md, "Figures behind choices in the code").
    super(options, Math.max(2, defaultPoolSize()));
    this.leases = leasesOf(options);
    // Block mode reads a snapshot's compressed blocks: load their decoders while its file opens.
    if (this.blockMode) codecs().catch(() => {}); // a failure to load fails the first frame instead
  }

  override _transform(chunk: Buffer | FrameInput, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.blockMode) {
      this.input.push(chunk as Buffer);
      return this.drive(callback);
    }
    try {
      this.decodeBlock(chunk as FrameInput);
    } catch (err) {
      return callback(err as Error);
    }
    this.whenRoom(() => callback());
  }

  /**
   * Decodes the buffered input. One chunk may hold frames that expand a thousandfold, so when
   * the output gets ahead of the consumer, decoding pauses mid-chunk and goes on once there is
   * room again; the write completes when the chunk is used up.
   */
  private drive(callback: TransformCallback): void {
    let done: boolean;
    try {
      done = this.scan();
    } catch (err) {
      return callback(err as Error);
    }
    this.whenRoom(() => (done ? callback() : this.drive(callback)));
  }

  /** True while decoded output waits for the consumer: in flight, or unread on the readable side. */
  private backlogged(): boolean {
    if (this.results.size >= this.results.limit) return true;
    return !this.gate.wanted && this.readableLength >= this.readableHighWaterMark;
  }


  override _flush(callback: TransformCallback): void {
    if (!this.blockMode && (this.input.length > 0 || this.header || this.streaming || this.skipping > 0)) {
      return callback(
        new TruncatedError(`input ends inside a frame at byte ${this.offset}`, { offset: this.offset }),
      );
    }
    this.results.whenEmpty(() => {
      if (this.hereWorkers === 0) return callback();
      // Not done until the codec is known to run here (block-codec.ts, workersStarted).
      codecs()
        .then(([{ workersStarted }]) => workersStarted(this.hereWorkers))
        .then(() => callback(), callback);
    });
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.streaming?.end();
    this.streaming = null;
    super._destroy(err, callback);
  }

  private decodeBlock(block: FrameInput): void {
    if (!block || !Buffer.isBuffer(block.frame) || !Number.isInteger(block.rawLength)) {
      throw new InvalidArgumentError('Decompressor in block mode takes { frame: Buffer, rawLength }');
    }
    if (block.rawLength < 0 || block.rawLength > MAX_RAW_BLOCK) {
      throw new LimitError(`block claims ${block.rawLength} bytes, over the limit of ${MAX_RAW_BLOCK}`, {
        expected: MAX_RAW_BLOCK,
        actual: block.rawLength,
      });
    }
    const { frame, crc, rawLength, ...fields } = block;
    const at = typeof fields.offset === 'number' ? fields.offset : this.offset;
    let header: FrameHeader | null;
    try {
      header = parseFrameHeader(frame, 0, at);
      if (!header || header.kind === 'skippable') {
        const magic = frame.length >= 4 ? frame.readUInt32LE(0) : 0;
        throw new FormatError(`block does not hold a zstd or LZ4 frame (magic 0x${magic.toString(16)})`, {
          actual: magic,
        });
      }
      checkFrameBound(header, frame, rawLength, at);
    } catch (err) {
      // A frame that fails its CRC is damaged, whatever the damage makes it look like (an
      // unknown version or a dictionary is not "unsupported" then).
      const actual = crc === undefined ? crc : crc32(frame);
      if (actual !== crc) throw new ChecksumError(`frame at byte ${at} fails its CRC32`, { offset: at, expected: crc, actual });
      throw err;
    }
    this.offset += frame.length;
    const placement = this.leases ? readerPlacement(rawLength, fields.entries) : {};
    const kind = header.kind;
    const takenOver = this.leases?.takeOver(frame) === true;
    this.results.add(
      codecs().then(([{ decompressFrame }]) => decompressFrame(kind, frame, rawLength, takenOver, at, true, placement)).then((r) => {
        if (crc !== undefined && r.crc !== crc) {
          throw new ChecksumError(`frame at byte ${at} fails its CRC32`, { offset: at, expected: crc, actual: r.crc });
        }
        // Emitted blocks are the consumer's; only inside readSnapshot is one lent, for its decoder to give back.
        if (this.leases && r.recyclable === true) this.leases.lend(r.data);
        if (r.here === true) this.hereWorkers = placement.workers ?? defaultPoolSize();
        return { data: r.data, rawLength, ...fields };
      }, (err: unknown) => {
        // A frame that failed to decompress and fails its CRC is damaged (SNAP_ERR_CHECKSUM);
        // one whose CRC matches met a failing codec (SNAP_ERR_CODEC), not damage.
        if (crc !== undefined) {
          const actual = frameCrcOf(err) ?? (frame.buffer.byteLength > 0 ? crc32(frame) : undefined);
          if (actual !== undefined && actual !== crc) throw new ChecksumError(`frame at byte ${at} fails its CRC32`, { offset: at, expected: crc, actual, cause: err });
        }
        throw err;
      }),
    );
  }

  /**
   * Consumes as much buffered input as forms whole frames or feeds a streaming decoder. Returns
   * true when it needs more input, false when it paused because the output is backlogged.
   */
  private scan(): boolean {
    for (;;) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, this.input.length);
        this.input.skip(n);
        this.offset += n;
        this.skipping -= n;
        if (this.skipping > 0) return true;
      }
      if (this.streaming) {
        const state = this.feedStreaming();
        if (state !== 'ended') return state === 'starved';
        continue;
      }
      if (!this.header) {
        const peek = this.input.peek(0, Math.min(this.input.length, 32));
        const header = parseFrameHeader(peek, 0, this.offset);
        if (!header) return true;
        this.header = header;
        if (header.kind === 'skippable') {
          this.header = null;
          this.skipping = 8 + header.skippableSize;
          continue;
        }
        const small = header.contentSize !== null && header.contentSize <= WHOLE_FRAME_LIMIT;
        // zstd needs the size up front to decode whole; LZ4 frames reveal it as they decode.
        if (small || header.kind === 'lz4') this.walker = new FrameWalker(header, this.offset);
        else this.startStreaming(header);
        continue;
      }
      const walker = this.walker!;
      const length = walker.walk(this.input);
      // Too big to decode whole, compressed or (LZ4, which need not declare a size) decompressed:
      // stream it, even if all of it is already here.
      if (walker.known > WHOLE_FRAME_LIMIT || walker.contentBound > WHOLE_FRAME_LIMIT) {
        this.startStreaming(this.header);
        continue;
      }
      if (length === null) return true;
      if (this.backlogged()) return false;
      if (walker.stored) this.takeStored(this.header, length);
      else this.decodeWhole(this.header, length);
    }
  }

  private decodeWhole(header: FrameHeader, length: number): void {
    const at = this.offset;
    const { data, owned } = this.input.take(length);
    this.offset += length;
    this.header = null;
    this.walker = null;
    // An LZ4 frame without a declared size was walked whole above: its blocks bound its size.
    // LZ4 frames come out in the pieces they are decoded in (stored blocks as views of the frame).
    const size = header.contentSize;
    if (header.kind === 'lz4') this.results.add(codecs().then(([, { decodeLz4Frame }]) => decodeLz4Frame(data, size, at)));
    // Nothing here checks the frame's CRC (a CrcVerifier before this stage covers the bytes):
    // the worker need not hash it.
    else this.results.add(codecs().then(([{ decompressFrame }]) => decompressFrame('zstd', data, size, owned, at, false)).then((r) => r.data));
  }

  /**
   * A frame of stored blocks (incompressible data): its content goes on as views of the input,
   * in order with the frames still decoding on workers.
   */
  private takeStored(header: FrameHeader, length: number): void {
    const at = this.offset;
    const parts = takeStoredContent(this.input, header, at);
    this.offset += length;
    this.header = null;
    this.walker = null;
    this.results.add(parts);
  }

  private startStreaming(header: FrameHeader): void {
    this.walker = null;
    this.streaming = header.kind === 'zstd' ? new ZstdStreamDecoder(this.offset) : new Lz4FrameDecoder(header, this.offset);
  }

  /**
   * Feeds buffered input to the streaming decoder until its frame ends, the input runs out
   * (`starved`) or its output gets ahead of the consumer (`paused`).
   */
  private feedStreaming(): 'ended' | 'starved' | 'paused' {
    const decoder = this.streaming!;
    let room = !this.backlogged();
    const emit = (b: Buffer): boolean => {
      this.results.add(b);
      room = !this.backlogged();
      return room;
    };
    if (room && decoder.pending) decoder.write(EMPTY, emit);
    for (const chunk of this.input.drain()) {
      if (decoder.finished || !room) {
        this.input.push(chunk);
        continue;
      }
      const used = decoder.write(chunk, emit);
      this.offset += used;
      if (used < chunk.length) this.input.push(chunk.subarray(used));
    }
    if (!decoder.finished) return room && !decoder.pending ? 'starved' : 'paused';
    decoder.end();
    this.streaming = null;
    this.header = null;
    return 'ended';
  }

  protected override deliver(out: Output): void {
    if (Buffer.isBuffer(out)) {
      this.bytesOut += out.length;
      this.push(out);
    } else if (Array.isArray(out)) {
      for (const b of out) {
        this.bytesOut += b.length;
        this.push(b);
      }
    } else {
      this.bytesOut += (out.data as Buffer).length;
      this.push(out);
    }
    this.emit('progress', { bytes: this.bytesOut, entries: 0 });
  }
}

/** Creates a {@link Decompressor}. */
export function createDecompressor(options?: DecompressorOptions): Decompressor {
  return new Decompressor(options);
}

/**
 * Blocks of entries this small on average (raw bytes per entry) are decoded on one worker
 * thread only: decoding their entries on the main thread takes longer than decompressing them,
 * so a second worker would only take CPU time from it (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
const SMALL_ENTRIES = 256;

/**
 * Where readSnapshot's blocks are decompressed: on this thread while the worker threads start,
 * then on one worker for small entries, on all for larger ones.
 */
function readerPlacement(rawLength: number, entries: unknown): FramePlacement {
  const small = typeof entries === 'number' && entries > 0 && rawLength / entries < SMALL_ENTRIES;
  return small ? { here: true, workers: 1 } : { here: true };
}

/** The frame CRC a worker computed before its decompression failed (see WorkerPool). */
function frameCrcOf(err: unknown): number | undefined {
  const crc = ((err as { cause?: { frameCrc?: unknown } } | null)?.cause)?.frameCrc;
  return typeof crc === 'number' ? crc : undefined;
}
