/**
 * SnapshotParser: snapshot file bytes → data frames with their block headers, ready for a
 * block-mode Decompressor. Checks everything that can be checked without decompressing: each
 * metadata frame's CRC, block order, offsets, the running CRC of the file at every block
 * header and at the footer, entry and byte totals, and that nothing follows the footer.
 * The header is available as the `header` event and property.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { LZ4_MAGIC, ZSTD_MAGIC } from '../codec/frame-format.js';
import { ChecksumError, FormatError, LimitError, TruncatedError } from '../errors.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { checkBlockLimits } from '../format/block-limits.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { frameDigest } from '../format/frame-digest.js';
import {
  decodeBlockHeader,
  decodeFooter,
  decodeHeader,
  frameTag,
  metaFrameLength,
  type BlockHeader,
  type SnapshotFooter,
  type SnapshotHeader,
} from '../format/snapshot-frames.js';
import { SKIPPABLE_HEADER, TAG_BLOCK, TAG_FOOTER } from '../format/skippable.js';
import { ByteQueue } from '../streams/byte-queue.js';
import { MAX_RAW_BLOCK } from '../streams/decompressor.js';
import { nodeStreamOptions, type StageOptions } from '../streams/stage-options.js';

/** Largest data frame accepted: a 256 MiB block that did not compress, plus framing. */
export const MAX_FRAME_LENGTH = MAX_RAW_BLOCK + 1024 * 1024;

/** What the parser emits per block: a Decompressor `FrameInput` with the block's metadata. */
export interface ParsedBlock {
  /** The data frame: one complete zstd or LZ4 frame. */
  frame: Buffer;
  /** Bytes the frame decompresses to (from the block header). */
  rawLength: number;
  /** CRC32 of `frame` (checked). */
  crc: number;
  /** File offset of the data frame. */
  offset: number;
  /** Block number, from 0. */
  seq: number;
  /** Entries in this block. */
  entries: number;
  /** Entries in blocks 0..seq. */
  entriesTotal: number;
  /** Source cursor after this block's last entry. */
  cursor: unknown;
  /** The frame's digest from its block header (files with `header.digests`); checked with `verifyDigests`. */
  digest?: Buffer;
}

/** Options of {@link SnapshotParser}. */
export interface SnapshotParserOptions extends StageOptions {
  /**
   * Check each data frame against the digest in its block header (files that have them), on
   * this thread: SHA-256 of every frame. Default false: the frame's CRC32, always checked, is
   * the check for damage; the digest is its identity (verifySnapshot checks both).
   */
  verifyDigests?: boolean;
}

/**
 * Snapshot file bytes → {@link ParsedBlock}s (object mode), for a block-mode Decompressor.
 * Checks every metadata frame, the running file CRC and the totals; emits `header` when the
 * header has been read.
 */
export class SnapshotParser extends Transform {
  /** The header frame; null until it has been read. */
  header: SnapshotHeader | null = null;
  /** The footer frame; null until it has been read (the file is whole once it is set). */
  footer: SnapshotFooter | null = null;
  /** readSnapshot's pipeline: file chunks lent along it go back to the pool once parsed. */
  private readonly leases: Leases | null;
  private readonly input: ByteQueue;
  /** Set once a lent chunk arrives: data frames are then copied out, never views of it. */
  private copyFrames = false;
  private offset = 0;
  private crc = 0;
  private block: BlockHeader | null = null;
  private blocks = 0;
  private entriesTotal = 0;
  private rawTotal = 0;
  private readonly verifyDigests: boolean;

  constructor(options: SnapshotParserOptions = {}) {
    super({ ...nodeStreamOptions(options), readableObjectMode: true, readableHighWaterMark: 2 });
    const leases = leasesOf(options);
    this.leases = leases;
    this.input = new ByteQueue(leases ? (chunk) => leases.giveBack(chunk) : undefined);
    this.verifyDigests = options.verifyDigests === true;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.leases?.isLent(chunk)) this.copyFrames = true;
    this.input.push(chunk);
    try {
      while (this.step());
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.footer) return callback();
    const what = this.header ? (this.block ? `data frame of block ${this.block.seq}` : 'a block header or the footer') : 'the header';
    callback(
      new TruncatedError(`snapshot ends at byte ${this.offset + this.input.length} while reading ${what}`, {
        offset: this.offset + this.input.length,
      }),
    );
  }

  /** Parses one frame if its bytes are all here; false when more input is needed. */
  private step(): boolean {
    if (this.input.length === 0) return false;
    if (this.footer) {
      throw new FormatError(`unexpected bytes after the footer at byte ${this.offset}`, { offset: this.offset });
    }
    if (this.block) return this.dataFrame(this.block);
    const length = metaFrameLength(this.input.peek(0, Math.min(this.input.length, SKIPPABLE_HEADER)), this.offset);
    if (length === null || this.input.length < SKIPPABLE_HEADER + length) return false;
    const at = this.offset;
    const crcBefore = this.crc;
    const frame = this.consume(SKIPPABLE_HEADER + length);
    if (!this.header) {
      this.header = decodeHeader(frame, at);
      this.emit('header', this.header);
      return true;
    }
    const tag = frameTag(frame);
    if (tag === TAG_BLOCK) this.blockHeader(decodeBlockHeader(frame, at, this.header.digests === true), at, crcBefore);
    else if (tag === TAG_FOOTER) this.finish(decodeFooter(frame, at), at, crcBefore);
    else throw new FormatError(`unexpected frame ${JSON.stringify(tag)} at byte ${at}`, { offset: at, actual: tag });
    return true;
  }

  private blockHeader(b: BlockHeader, at: number, crcBefore: number): void {
    const expect = (field: string, expected: number, actual: number): void =>
      mustEqual(`block header at byte ${at}`, field, expected, actual, { offset: at, seq: b.seq });
    expect('sequence number', this.blocks, b.seq);
    expect('offset', at, b.offset);
    expect('file CRC32', crcBefore, b.prefixCrc);
    expect('entry total', this.entriesTotal + b.entries, b.entriesTotal);
    expect('byte total', this.rawTotal + b.rawLength, b.rawTotal);
    if (b.frameLength > MAX_FRAME_LENGTH || b.rawLength > MAX_RAW_BLOCK) {
      throw new LimitError(`block ${b.seq} at byte ${at} claims a ${b.frameLength}-byte frame of ${b.rawLength} bytes`, {
        offset: at,
        seq: b.seq,
        actual: Math.max(b.frameLength, b.rawLength),
      });
    }
    checkBlockLimits(b, this.header!.blockSize, at);
    this.block = b;
  }

  private dataFrame(b: BlockHeader): boolean {
    if (this.input.length < b.frameLength) return false;
    const at = this.offset;
    // In readSnapshot's pipeline the Decompressor checks every frame against the CRC its block
    // header gives (a worker hashes it as it decodes): the running file CRC takes that value
    // instead of hashing the frame a second time, here on the main thread. Damage in the frame
    // fails there; damage in the header's CRC field fails here, the header being hashed.
    // Anywhere else the frame's consumer is unknown, and every byte is hashed here.
    const checkedDownstream = this.leases !== null;
    const taken = this.input.take(b.frameLength, this.copyFrames);
    const frame = taken.data;
    const owned = taken.owned;
    this.crc = checkedDownstream ? crc32Combine(this.crc, b.frameCrc, b.frameLength) : crc32(frame, this.crc);
    this.offset += b.frameLength;
    this.checkFrameKind(frame, b, at);
    if (this.verifyDigests && b.digest) this.checkDigest(frame, b, at);
    // Our own copy goes on lent to readSnapshot's Decompressor, which moves it to a worker;
    // in any other pipeline the frame is the consumer's.
    if (owned) this.leases?.lend(frame);
    this.block = null;
    this.blocks++;
    this.entriesTotal = b.entriesTotal;
    this.rawTotal = b.rawTotal;
    const out: ParsedBlock = {
      frame,
      rawLength: b.rawLength,
      crc: b.frameCrc,
      offset: at,
      seq: b.seq,
      entries: b.entries,
      entriesTotal: b.entriesTotal,
      cursor: b.cursor,
      ...(b.digest ? { digest: b.digest } : {}),
    };
    this.push(out);
    return true;
  }

  /**
   * The data frame must be of the header's codec (docs/FORMAT.md 3.6): a zstd frame for `zstd`
   * and `none`, an LZ4 frame for `lz4`. A frame that fails its CRC is damaged, whatever it looks
   * like now, so the CRC decides the error first (the Decompressor checks it for the others).
   */
  private checkFrameKind(frame: Buffer, b: BlockHeader, at: number): void {
    const expected = this.header!.codec === 'lz4' ? LZ4_MAGIC : ZSTD_MAGIC;
    const magic = frame.length >= 4 ? frame.readUInt32LE(0) : -1;
    if (magic === expected) return;
    const actual = crc32(frame);
    if (actual !== b.frameCrc) {
      throw new ChecksumError(`frame at byte ${at} fails its CRC32`, { offset: at, seq: b.seq, expected: b.frameCrc, actual });
    }
    throw new FormatError(`block ${b.seq}: the data frame at byte ${at} is not a ${this.header!.codec === 'lz4' ? 'LZ4' : 'zstd'} frame, as the header's codec ${this.header!.codec} requires`, {
      offset: at,
      seq: b.seq,
      expected,
      actual: magic,
    });
  }

  /**
   * A frame whose CRC32 holds but whose digest does not was not damaged at random (that would
   * take a CRC collision): the frame or its block header was rewritten. Still corruption: these
   * are not the bytes the writer wrote. The CRC is checked first, so damage reads as damage.
   */
  private checkDigest(frame: Buffer, b: BlockHeader, at: number): void {
    const crc = crc32(frame);
    if (crc !== b.frameCrc) {
      throw new ChecksumError(`frame at byte ${at} fails its CRC32`, { offset: at, seq: b.seq, expected: b.frameCrc, actual: crc });
    }
    const actual = frameDigest(frame);
    if (!actual.equals(b.digest!)) {
      throw new ChecksumError(
        `block ${b.seq}: the data frame at byte ${at} matches its CRC32 but not the SHA-256 digest in its block header ` +
          `(${b.digest!.toString('hex')}, the frame's is ${actual.toString('hex')}): the frame or its header was rewritten`,
        { offset: at, seq: b.seq, expected: b.digest!.toString('hex'), actual: actual.toString('hex') },
      );
    }
  }

  private finish(f: SnapshotFooter, at: number, crcBefore: number): void {
    const check = (field: string, expected: number, actual: number): void =>
      mustEqual(`footer at byte ${at}`, field, expected, actual, { offset: at });
    check('offset', at, f.offset);
    check('file CRC32', crcBefore, f.prefixCrc);
    check('block count', this.blocks, f.blocks);
    check('entry total', this.entriesTotal, f.entriesTotal);
    check('byte total', this.rawTotal, f.rawTotal);
    this.footer = f;
    this.emit('footer', f);
  }

  /** Takes `n` bytes off the input, folding them into the running CRC. */
  private consume(n: number): Buffer {
    const { data } = this.input.take(n);
    this.crc = crc32(data, this.crc);
    this.offset += n;
    return data;
  }
}

/** A field that disagrees with what the file so far implies: a checksum or a format error. */
function mustEqual(where: string, field: string, expected: number, actual: number, at: { offset: number; seq?: number }): void {
  if (expected === actual) return;
  const Err = field === 'file CRC32' ? ChecksumError : FormatError;
  throw new Err(`${where}: ${field} is ${actual}, expected ${expected}`, { ...at, expected, actual });
}

/** Creates a {@link SnapshotParser}. */
export function createSnapshotParser(options?: SnapshotParserOptions): SnapshotParser {
  return new SnapshotParser(options);
}
