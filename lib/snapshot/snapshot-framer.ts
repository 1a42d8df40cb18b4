/**
 * SnapshotFramer: compressed blocks → snapshot file bytes. Writes the header, a block header
 * before each data frame (with the running CRC32 of the file so far, the entry totals and the
 * source cursor), and the footer. The result is a valid `.zst` / `.lz4` file (docs/FORMAT.md).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { CodecName } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { CompressedBlock } from '../format/block.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { checkBlockLimits } from '../format/block-limits.js';
import { frameDigest } from '../format/frame-digest.js';
import { encodeBlockHeader, encodeFooter, encodeHeader } from '../format/snapshot-frames.js';
import { ownTimeOf, type OwnTime } from '../streams/own-time.js';
import { nodeStreamOptions, type StageOptions } from '../streams/stage-options.js';

/** Where a snapshot file stands after some whole blocks: enough to append more and finish it. */
export interface FramerState {
  /** Bytes written: the offset of the next block header. */
  offset: number;
  /** CRC32 of those bytes. */
  crc: number;
  /** Blocks written. */
  blocks: number;
  /** Entries in those blocks. */
  entriesTotal: number;
  /** Raw (uncompressed) bytes in those blocks. */
  rawTotal: number;
  /** Cursor after the last block (undefined before any). */
  cursor?: unknown;
}

/** Options of {@link SnapshotFramer}. */
export interface SnapshotFramerOptions extends StageOptions {
  /** Codec of the data frames, recorded in the header. */
  codec: CodecName;
  /** The block size the blocks were made with, recorded in the header. */
  blockSize: number;
  /** User metadata stored in the header. */
  meta?: Record<string, unknown>;
  /** Creation time in ms. Default: now. */
  createdAt?: number;
  /** Continue a file that already holds a header and whole blocks: no header is written. */
  resume?: FramerState;
  /**
   * Give every block header its data frame's digest (docs/FORMAT.md 3.5; header flag bit 0).
   * Default true. False writes files that snapstream readers before the digest revision read;
   * when resuming, it must be what the file's header says.
   */
  digests?: boolean;
}

/**
 * {@link CompressedBlock}s (object mode) → the bytes of a snapshot file: header, a block header
 * before each data frame, footer. The result is also a valid `.zst` / `.lz4` file.
 */
export class SnapshotFramer extends Transform {
  private readonly state: FramerState;
  private started: boolean;
  private headerFrame: Buffer | null = null;
  private readonly blockSize: number;
  private readonly digests: boolean;
  /** A recipe's account of its pipeline's own main-thread time (lib/streams/own-time.ts). */
  private readonly ownTime: OwnTime | null;

  constructor(options: SnapshotFramerOptions) {
    super({ ...nodeStreamOptions(options), writableObjectMode: true, writableHighWaterMark: 2 });
    const meta = options.meta ?? {};
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
      throw new InvalidArgumentError('meta must be a plain object');
    }
    this.blockSize = options.blockSize;
    this.digests = options.digests !== false;
    this.ownTime = ownTimeOf(options);
    this.state = options.resume ? { ...options.resume } : { offset: 0, crc: 0, blocks: 0, entriesTotal: 0, rawTotal: 0 };
    this.started = options.resume !== undefined;
    if (!this.started) {
      // Encode now so bad metadata fails at construction, not mid-pipeline.
      this.headerFrame = encodeHeader({
        codec: options.codec,
        blockSize: options.blockSize,
        createdAt: options.createdAt ?? Date.now(),
        meta,
        ...(this.digests ? { digests: true } : {}),
      });
    }
  }

  /** The state after everything pushed so far. */
  get position(): Readonly<FramerState> {
    return this.state;
  }

  override _transform(block: CompressedBlock, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Framing, and the start of the block's write: the recipe's own work, whenever the sink lets it in.
    this.ownTime?.enter();
    try {
      this.frame(block);
    } catch (err) {
      return callback(err as Error);
    } finally {
      this.ownTime?.leave();
    }
    callback();
  }

  /** Writes one block's header and frame. */
  private frame(block: CompressedBlock): void {
    this.start();
    const s = this.state;
    const fields = {
      seq: s.blocks,
      frameLength: block.frame.length,
      rawLength: block.rawLength,
      frameCrc: block.crc,
      offset: s.offset,
      prefixCrc: s.crc,
      entries: block.entries,
      entriesTotal: s.entriesTotal + block.entries,
      rawTotal: s.rawTotal + block.rawLength,
      cursor: block.cursor,
      // A compressor in block mode hashed the frame off the main thread; any other source of blocks is hashed here.
      ...(this.digests ? { digest: block.digest ?? frameDigest(block.frame) } : {}),
    };
    // Never write a block that readers refuse (a hand-made pipeline may pass any block).
    checkBlockLimits(fields, this.blockSize, s.offset);
    const header = encodeBlockHeader(fields);
    s.entriesTotal = fields.entriesTotal;
    s.rawTotal = fields.rawTotal;
    s.blocks++;
    s.cursor = block.cursor;
    this.out(header);
    // The block carries its frame's CRC (recorded in the header above): no need to read the frame.
    this.out(block.frame, block.crc);
    this.emit('progress', { bytes: s.offset, entries: s.entriesTotal });
  }

  override _flush(callback: TransformCallback): void {
    this.start();
    const s = this.state;
    this.out(encodeFooter({ blocks: s.blocks, entriesTotal: s.entriesTotal, rawTotal: s.rawTotal, offset: s.offset, prefixCrc: s.crc }));
    callback();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out(this.headerFrame!);
    this.headerFrame = null;
  }

  private out(bytes: Buffer, crc?: number): void {
    this.state.crc = crc === undefined ? crc32(bytes, this.state.crc) : crc32Combine(this.state.crc, crc, bytes.length);
    this.state.offset += bytes.length;
    this.push(bytes);
  }
}

/** Creates a {@link SnapshotFramer}. */
export function createSnapshotFramer(options: SnapshotFramerOptions): SnapshotFramer {
  return new SnapshotFramer(options);
}
