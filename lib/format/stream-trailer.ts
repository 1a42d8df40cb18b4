/**
 * The trailer a snapstream byte stream ends with, checked by a sink that only sees the bytes go
 * by (the S3 sink): a snapshot file's footer frame (docs/FORMAT.md) or CrcFooter's CRC trailer.
 * Either holds the CRC32 and length of every byte before it.
 *
 * {@link TailCrc} keeps what the check needs in constant memory: the CRC32 of everything but
 * the last {@link MAX_TRAILER_SIZE} bytes, and those bytes.
 */
import { ChecksumError, FormatError, TruncatedError } from '../errors.js';
import { readU64 } from './binary.js';
import { crc32 } from './crc32.js';
import { SNAP_SKIPPABLE_MAGIC, TAG_CRC, TAG_FOOTER } from './skippable.js';
import { decodeFooter, FOOTER_FRAME_SIZE } from './snapshot-frames.js';

/** Size of CrcFooter's trailer: a skippable frame holding `SCRC`, the CRC32 and the u64 length. */
export const CRC_TRAILER_SIZE = 24;
/** The longest trailer: a snapshot footer frame. */
export const MAX_TRAILER_SIZE = FOOTER_FRAME_SIZE;

/** Which trailer a stream ended with: a snapshot file's footer frame or CrcFooter's CRC trailer. */
export type TrailerKind = 'snapshot-footer' | 'crc-trailer';

/** The running state of {@link TailCrc}, small enough to store beside a resumable upload. */
export interface TailCrcState {
  /** Bytes seen in all. */
  length: number;
  /** CRC32 of all but the last `tail.length` bytes. */
  crc: number;
  /** The last min(length, MAX_TRAILER_SIZE) bytes. */
  tail: Buffer;
}

/** CRC32 of a stream, held back by the last {@link MAX_TRAILER_SIZE} bytes. */
export class TailCrc {
  /** Bytes seen so far. */
  length = 0;
  private crc = 0;
  private tail = Buffer.alloc(MAX_TRAILER_SIZE);
  private tailLength = 0;

  constructor(state?: TailCrcState) {
    if (state) {
      this.length = state.length;
      this.crc = state.crc >>> 0;
      state.tail.copy(this.tail);
      this.tailLength = state.tail.length;
    }
  }

  /** Adds the stream's next bytes. */
  update(chunk: Uint8Array): void {
    this.length += chunk.length;
    if (chunk.length >= MAX_TRAILER_SIZE) {
      // Each byte is CRC'd once, as it leaves the window.
      if (this.tailLength > 0) this.crc = crc32(this.tail.subarray(0, this.tailLength), this.crc);
      const cut = chunk.length - MAX_TRAILER_SIZE;
      this.crc = crc32(chunk.subarray(0, cut), this.crc);
      this.tail.set(chunk.subarray(cut));
      this.tailLength = MAX_TRAILER_SIZE;
      return;
    }
    const overflow = this.tailLength + chunk.length - MAX_TRAILER_SIZE;
    if (overflow > 0) {
      this.crc = crc32(this.tail.subarray(0, overflow), this.crc);
      this.tail.copyWithin(0, overflow, this.tailLength);
      this.tailLength -= overflow;
    }
    this.tail.set(chunk, this.tailLength);
    this.tailLength += chunk.length;
  }

  /** A copy of the running state, from which a new TailCrc carries on. */
  state(): TailCrcState {
    return { length: this.length, crc: this.crc, tail: Buffer.from(this.tail.subarray(0, this.tailLength)) };
  }

  /** CRC32 of all bytes but the last `n` (n ≤ the tail held). */
  crcBeforeLast(n: number): number {
    return crc32(this.tail.subarray(0, this.tailLength - n), this.crc);
  }

  /**
   * Checks the stream's trailer against the bytes before it; returns which trailer it was.
   * Throws TruncatedError for an empty stream, FormatError when the stream has no trailer,
   * ChecksumError when the CRC or length disagree.
   */
  checkTrailer(): TrailerKind {
    const tail = this.tail.subarray(0, this.tailLength);
    const frameAt = (size: number, tag: string): Buffer | null => {
      if (tail.length < size) return null;
      const frame = tail.subarray(tail.length - size);
      return frame.readUInt32LE(0) === SNAP_SKIPPABLE_MAGIC && frame.readUInt32LE(4) === size - 8 && frame.toString('latin1', 8, 12) === tag ? frame : null;
    };
    const footerFrame = frameAt(FOOTER_FRAME_SIZE, TAG_FOOTER);
    if (footerFrame) {
      const offset = this.length - FOOTER_FRAME_SIZE;
      const footer = decodeFooter(footerFrame, offset);
      this.expect('snapshot footer', footer.offset, offset, footer.prefixCrc, this.crcBeforeLast(FOOTER_FRAME_SIZE));
      return 'snapshot-footer';
    }
    const crcFrame = frameAt(CRC_TRAILER_SIZE, TAG_CRC);
    if (crcFrame) {
      const offset = this.length - CRC_TRAILER_SIZE;
      this.expect('CRC trailer', readU64(crcFrame, 16), offset, crcFrame.readUInt32LE(12), this.crcBeforeLast(CRC_TRAILER_SIZE));
      return 'crc-trailer';
    }
    if (this.length === 0) throw new TruncatedError('the stream is empty: no snapshot footer or CRC trailer');
    throw new FormatError('the stream does not end with a snapshot footer or CRC trailer', { offset: this.length });
  }

  private expect(what: string, claimedLength: number, length: number, claimedCrc: number, crc: number): void {
    if (claimedLength !== length) {
      throw new TruncatedError(`the ${what} covers ${claimedLength} bytes but ${length} came before it`, { offset: length, expected: claimedLength, actual: length });
    }
    if (claimedCrc !== crc) {
      throw new ChecksumError(`the ${what} CRC32 does not match the bytes before it`, { offset: length, expected: claimedCrc, actual: crc });
    }
  }
}
