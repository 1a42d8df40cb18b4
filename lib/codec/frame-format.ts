/**
 * Frame-level facts of the zstd (RFC 8878) and LZ4 frame formats: magic numbers, header
 * parsing, and a walker that finds where a frame ends by reading only block headers.
 */
import { FormatError, UnsupportedError } from '../errors.js';
import { xxhash32 } from './xxhash32.js';

export const ZSTD_MAGIC = 0xfd2fb528;
export const LZ4_MAGIC = 0x184d2204;
export const LZ4_LEGACY_MAGIC = 0x184c2102;
export const SKIPPABLE_MIN = 0x184d2a50;
export const SKIPPABLE_MASK = 0xfffffff0;
export const ZSTD_BLOCK_MAX = 128 * 1024;

/** Random access to bytes received so far (a Buffer, or a queue of chunks). */
export interface ByteSource {
  readonly length: number;
  peek(pos: number, n: number): Buffer;
}

export type FrameKind = 'zstd' | 'lz4' | 'skippable';

export interface FrameHeader {
  kind: FrameKind;
  /** Bytes of the frame header (magic included). */
  headerSize: number;
  /** Declared content size, if the frame declares one. */
  contentSize: number | null;
  /** zstd: a 4-byte checksum follows the last block. LZ4: a content checksum follows the end mark. */
  contentChecksum: boolean;
  /** LZ4: each block is followed by a 4-byte checksum. */
  blockChecksum: boolean;
  /** LZ4: blocks are independent (else each may refer to the 64 KiB before it). */
  blockIndependent: boolean;
  /** Largest block the frame may hold, in bytes (LZ4); 128 KiB for zstd. */
  blockMaxSize: number;
  /** Skippable frames: payload length. */
  skippableSize: number;
}

export function isSkippableMagic(magic: number): boolean {
  return (magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MIN;
}

/**
 * Parses the header of the frame starting at `at`. Returns null when more bytes are needed.
 * `offset` is the stream offset of `at`, for error messages.
 */
export function parseFrameHeader(buf: Buffer, at: number, offset: number): FrameHeader | null {
  const avail = buf.length - at;
  if (avail < 4) return null;
  const magic = buf.readUInt32LE(at);
  if (magic === ZSTD_MAGIC) return parseZstdHeader(buf, at, offset);
  if (magic === LZ4_MAGIC) return parseLz4Header(buf, at, offset);
  if (isSkippableMagic(magic)) {
    if (avail < 8) return null;
    return {
      kind: 'skippable',
      headerSize: 8,
      contentSize: null,
      contentChecksum: false,
      blockChecksum: false,
      blockIndependent: true,
      blockMaxSize: 0,
      skippableSize: buf.readUInt32LE(at + 4),
    };
  }
  if (magic === LZ4_LEGACY_MAGIC) {
    throw new UnsupportedError(`legacy LZ4 frame at byte ${offset} (lz4 -l) is not supported`, { offset });
  }
  throw new FormatError(`unknown frame magic 0x${magic.toString(16).padStart(8, '0')} at byte ${offset}`, {
    offset,
    actual: magic,
  });
}

function parseZstdHeader(buf: Buffer, at: number, offset: number): FrameHeader | null {
  if (buf.length - at < 5) return null;
  const fhd = buf[at + 4]!;
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  if (fhd & 0x08) throw new FormatError(`zstd frame at byte ${offset}: reserved header bit set`, { offset });
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
  const headerSize = 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
  if (buf.length - at < headerSize) return null;
  if (dictIdSize > 0 && readUIntLE(buf, at + 5 + (singleSegment ? 0 : 1), dictIdSize) !== 0) {
    throw new UnsupportedError(`zstd frame at byte ${offset} needs a dictionary`, { offset });
  }
  let contentSize: number | null = null;
  if (fcsSize > 0) {
    const fcsAt = at + headerSize - fcsSize;
    contentSize = fcsSize === 2 ? buf.readUInt16LE(fcsAt) + 256 : readUIntLE(buf, fcsAt, fcsSize);
  }
  return {
    kind: 'zstd',
    headerSize,
    contentSize,
    contentChecksum: ((fhd >>> 2) & 1) === 1,
    blockChecksum: false,
    blockIndependent: true,
    blockMaxSize: ZSTD_BLOCK_MAX,
    skippableSize: 0,
  };
}

function parseLz4Header(buf: Buffer, at: number, offset: number): FrameHeader | null {
  if (buf.length - at < 7) return null;
  const flg = buf[at + 4]!;
  const bd = buf[at + 5]!;
  if (flg >>> 6 !== 1) throw new UnsupportedError(`LZ4 frame at byte ${offset}: version ${flg >>> 6}`, { offset });
  if (flg & 0x02 || bd & 0x8f) throw new FormatError(`LZ4 frame at byte ${offset}: reserved bits set`, { offset });
  const blockSizeId = (bd >>> 4) & 7;
  if (blockSizeId < 4) throw new FormatError(`LZ4 frame at byte ${offset}: bad block size id`, { offset });
  const hasContentSize = (flg & 0x08) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const headerSize = 7 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
  if (buf.length - at < headerSize) return null;
  const hc = buf[at + headerSize - 1]!;
  const expected = (xxhash32(buf.subarray(at + 4, at + headerSize - 1)) >>> 8) & 0xff;
  if (hc !== expected) {
    throw new FormatError(`LZ4 frame at byte ${offset}: header checksum mismatch`, { offset, expected, actual: hc });
  }
  if (hasDictId) throw new UnsupportedError(`LZ4 frame at byte ${offset} needs a dictionary`, { offset });
  return {
    kind: 'lz4',
    headerSize,
    contentSize: hasContentSize ? readUIntLE(buf, at + 6, 8) : null,
    contentChecksum: (flg & 0x04) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    blockIndependent: (flg & 0x20) !== 0,
    blockMaxSize: 1 << (8 + 2 * blockSizeId),
    skippableSize: 0,
  };
}

function readUIntLE(buf: Buffer, at: number, size: number): number {
  if (size <= 6) return buf.readUIntLE(at, size);
  const hi = buf.readUInt32LE(at + 4);
  if (hi > 0x1f_ffff) throw new FormatError(`frame content size beyond 2^53 at byte ${at}`, { offset: at });
  return hi * 0x1_0000_0000 + buf.readUInt32LE(at);
}

/**
 * Finds the end of one zstd or LZ4 frame by hopping over its block headers, remembering
 * where it stopped so bytes arriving later are not read twice.
 */
export class FrameWalker {
  private pos: number;
  private done = false;
  /** LZ4: the most the blocks walked so far can decompress to (a block never exceeds its frame's block size). */
  private bound = 0;
  /**
   * True while every block walked so far holds its bytes as they are (zstd raw blocks, LZ4
   * uncompressed blocks) and the frame carries no checksum: its content can then be read out of
   * the frame without a decoder (incompressible data is stored so by both formats).
   */
  stored: boolean;

  constructor(
    readonly header: FrameHeader,
    private readonly offset: number,
  ) {
    this.pos = header.kind === 'skippable' ? 8 + header.skippableSize : header.headerSize;
    if (header.kind === 'skippable') this.done = true;
    this.stored = header.kind !== 'skippable' && !header.contentChecksum && !header.blockChecksum;
  }

  /**
   * `frame` holds the frame's bytes received so far, from its first byte. Returns the frame's
   * total length once it is known and fully present, otherwise null.
   */
  walk(frame: ByteSource): number | null {
    const h = this.header;
    while (!this.done) {
      if (h.kind === 'zstd') {
        if (frame.length < this.pos + 3) return null;
        const bh = frame.peek(this.pos, 3).readUIntLE(0, 3);
        const type = (bh >>> 1) & 3;
        const size = bh >>> 3;
        if (type === 3) throw this.error('reserved zstd block type');
        if (size > ZSTD_BLOCK_MAX) throw this.error('zstd block larger than 128 KiB');
        if (type !== 0) this.stored = false;
        this.pos += 3 + (type === 1 ? 1 : size);
        if (bh & 1) {
          this.done = true;
          if (h.contentChecksum) this.pos += 4;
        }
      } else {
        if (frame.length < this.pos + 4) return null;
        const word = frame.peek(this.pos, 4).readUInt32LE(0);
        if (word === 0) {
          this.done = true;
          this.pos += 4 + (h.contentChecksum ? 4 : 0);
        } else {
          const size = word & 0x7fffffff;
          if (size > h.blockMaxSize) throw this.error('LZ4 block larger than the frame allows');
          this.pos += 4 + size + (h.blockChecksum ? 4 : 0);
          this.bound += word & 0x80000000 ? size : h.blockMaxSize;
          if (!(word & 0x80000000)) this.stored = false;
        }
      }
    }
    return frame.length >= this.pos ? this.pos : null;
  }

  /** Bytes of the frame known so far (a lower bound on its length). */
  get known(): number {
    return this.pos;
  }

  /**
   * An upper bound on what the blocks walked so far decompress to: LZ4 only (a zstd frame is
   * decoded whole only when it declares its size), 0 for zstd. An LZ4 frame may expand up to
   * 255-fold, so its compressed length alone does not bound the memory a whole decode takes.
   */
  get contentBound(): number {
    return this.bound;
  }

  private error(what: string): FormatError {
    return new FormatError(`${what} in frame at byte ${this.offset}`, { offset: this.offset });
  }
}
