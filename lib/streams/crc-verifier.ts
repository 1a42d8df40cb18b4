/**
 * CrcVerifier: bytes + CRC trailer → the bytes, trailer removed. Data flows on as it arrives
 * (the last 24 bytes are held back in case they are the trailer); at the end the trailer is
 * checked and the stream fails with a typed error on a mismatch or a missing or cut trailer.
 * Consumers must treat what they received as unverified until the stream ends without error.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumError, TruncatedError } from '../errors.js';
import { readU64 } from '../format/binary.js';
import { crc32 } from '../format/crc32.js';
import { SNAP_SKIPPABLE_MAGIC, TAG_CRC } from '../format/skippable.js';
import { CRC_TRAILER_SIZE } from './crc-footer.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Options for a {@link CrcVerifier}: only the common {@link StageOptions}. */
export type CrcVerifierOptions = StageOptions;

/**
 * Bytes ending in a {@link CrcFooter} trailer → the same bytes without it. The stream fails with
 * a typed error when the trailer is missing, cut short or does not match, so what it passed on
 * is verified only once it ends without error. Made by {@link createCrcVerifier}.
 */
export class CrcVerifier extends Transform {
  /** CRC32 of the bytes passed on so far. */
  crc = 0;
  /** Bytes passed on so far. */
  length = 0;
  private held: Buffer = Buffer.alloc(0);

  constructor(options: CrcVerifierOptions = {}) {
    super(nodeStreamOptions(options));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out: Buffer | null = null;
    if (chunk.length >= CRC_TRAILER_SIZE) {
      if (this.held.length > 0) this.pass(this.held);
      out = chunk.subarray(0, chunk.length - CRC_TRAILER_SIZE);
      this.held = Buffer.from(chunk.subarray(chunk.length - CRC_TRAILER_SIZE));
    } else {
      const joined = Buffer.concat([this.held, chunk]);
      const excess = joined.length - CRC_TRAILER_SIZE;
      if (excess > 0) out = joined.subarray(0, excess);
      this.held = excess > 0 ? joined.subarray(excess) : joined;
    }
    if (out && out.length > 0) this.pass(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(trailerError(this.held, this.length, this.crc));
  }

  private pass(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
    this.length += bytes.length;
    this.push(bytes);
  }
}

/**
 * What is wrong with a stream whose last bytes are `trailer` (up to {@link CRC_TRAILER_SIZE}) and
 * whose `length` bytes before them hash to `crc`, or null when the trailer is there and matches:
 * the check a {@link CrcVerifier} makes at its end, shared with readers that hash a file
 * themselves (the CLI's `verify FILE`), so both fail alike.
 */
export function trailerError(trailer: Buffer, length: number, crc: number): Error | null {
  const t = trailer;
  const at = length;
  if (t.length < CRC_TRAILER_SIZE || t.readUInt32LE(0) !== SNAP_SKIPPABLE_MAGIC || t.toString('latin1', 8, 12) !== TAG_CRC) {
    return new TruncatedError(`no CRC trailer at the end (byte ${at + t.length}): the input is cut short or was never CRC-framed`, {
      offset: at + t.length,
    });
  }
  const expectedLength = readU64(t, 16);
  if (expectedLength !== at) {
    const Err = expectedLength > at ? TruncatedError : ChecksumError;
    return new Err(`length mismatch: the trailer says ${expectedLength} bytes, ${at} came before it`, {
      offset: at,
      expected: expectedLength,
      actual: at,
    });
  }
  const expected = t.readUInt32LE(12);
  if (expected !== crc) {
    return new ChecksumError(`CRC32 mismatch: trailer 0x${hex(expected)}, data 0x${hex(crc)}`, {
      offset: at,
      expected,
      actual: crc,
    });
  }
  return null;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Creates a {@link CrcVerifier}. */
export function createCrcVerifier(options?: CrcVerifierOptions): CrcVerifier {
  return new CrcVerifier(options);
}
