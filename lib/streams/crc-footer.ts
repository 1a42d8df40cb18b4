/**
 * CrcFooter: bytes → the same bytes + a 24-byte trailer holding the CRC32 (IEEE) and length of
 * everything before it. The trailer is a skippable frame (docs/FORMAT.md, "CRC trailer"), so a
 * compressed stream with a trailer is still a valid `.zst` / `.lz4` file.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { writeU64 } from '../format/binary.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { SKIPPABLE_HEADER, TAG_CRC, writeSkippableHeader } from '../format/skippable.js';
import { CRC_TRAILER_SIZE } from '../format/stream-trailer.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Size of the CRC trailer in bytes (defined with the other trailer layouts in format/). */
export { CRC_TRAILER_SIZE };
const PAYLOAD = CRC_TRAILER_SIZE - SKIPPABLE_HEADER;

/** Options of {@link CrcFooter} (and {@link createCrcFooter}). */
export interface CrcFooterOptions extends StageOptions {
  /** Continue from bytes already written elsewhere (resuming): their CRC32 and length. */
  initial?: {
    /** CRC32 of the bytes already written. */
    crc: number;
    /** Bytes already written. */
    length: number;
  };
}

/** Builds the trailer for a stream of `length` bytes with CRC32 `crc`. */
export function crcTrailer(crc: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(CRC_TRAILER_SIZE);
  writeSkippableHeader(out, PAYLOAD);
  out.write(TAG_CRC, 8, 'latin1');
  out.writeUInt32LE(crc, 12);
  writeU64(out, length, 16);
  return out;
}

/**
 * Bytes → the same bytes followed by a {@link CRC_TRAILER_SIZE}-byte trailer holding their CRC32
 * and length (a {@link CrcVerifier} checks and removes it). Made by {@link createCrcFooter}.
 */
export class CrcFooter extends Transform {
  /** CRC32 of the bytes passed so far. */
  crc: number;
  /** Bytes passed so far. */
  length: number;

  /** A recipe's pipeline: CRCs its Compressor already computed. */
  private readonly leases: Leases | null;

  constructor(options: CrcFooterOptions = {}) {
    super(nodeStreamOptions(options));
    this.leases = leasesOf(options);
    const initial = options.initial ?? { crc: 0, length: 0 };
    if (!Number.isInteger(initial.crc) || !Number.isSafeInteger(initial.length) || initial.length < 0) {
      throw new InvalidArgumentError('initial must be { crc: uint32, length: non-negative integer }');
    }
    this.crc = initial.crc >>> 0;
    this.length = initial.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const known = this.leases?.crcOf(chunk);
    this.crc = known === undefined ? crc32(chunk, this.crc) : crc32Combine(this.crc, known, chunk.length);
    this.length += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(null, crcTrailer(this.crc, this.length));
  }
}

/** Creates a {@link CrcFooter}. */
export function createCrcFooter(options?: CrcFooterOptions): CrcFooter {
  return new CrcFooter(options);
}
