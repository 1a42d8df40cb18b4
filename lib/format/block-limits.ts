/**
 * What a block header may claim: no more than a snapstream writer can produce, checked before a
 * block is decompressed or decoded (docs/FORMAT.md, "Limits a reader enforces").
 *
 * A writer fills blocks of the header's `blockSize` (at most 64 MiB) with whole records of at
 * least 9 bytes; a record larger than a block gets a block of its own, of up to 256 MiB. So a
 * block holds at most `floor(blockSize / 9)` records, a block larger than `blockSize` exactly
 * one, and a data frame is never much longer than the bytes it holds.
 */
import { FormatError, LimitError } from '../errors.js';
import { MAX_RECORD_BLOCK, RECORD_HEADER } from './entry-record.js';
import type { BlockHeader } from './snapshot-frames.js';

/** Most records a block of `blockSize` raw bytes can hold: every one of them empty. */
export function maxBlockEntries(blockSize: number): number {
  return Math.floor(blockSize / RECORD_HEADER);
}

/**
 * The longest data frame any codec makes of `rawLength` bytes: zstd's compress bound
 * (n + n/256 + 64 KiB) and LZ4's (4 bytes per 64 KiB block) with room to spare.
 */
export function maxFrameLength(rawLength: number): number {
  return rawLength + Math.ceil(rawLength / 128) + 128 * 1024;
}

/**
 * Throws a {@link LimitError} when block header `b` (at file offset `offset`, in a file whose
 * header gives `blockSize`) claims more records, raw bytes or frame bytes than a writer makes,
 * and a {@link FormatError} when it claims more records than its raw bytes can hold.
 */
export function checkBlockLimits(b: BlockHeader, blockSize: number, offset: number): void {
  const limit = (what: string, expected: number, actual: number): never => {
    throw new LimitError(`block ${b.seq} at byte ${offset} ${what}`, { offset, seq: b.seq, expected, actual });
  };
  if (b.rawLength > MAX_RECORD_BLOCK) limit(`claims ${b.rawLength} raw bytes, over the limit of ${MAX_RECORD_BLOCK}`, MAX_RECORD_BLOCK, b.rawLength);
  const maxEntries = b.rawLength > blockSize ? 1 : maxBlockEntries(blockSize);
  if (b.entries > maxEntries) {
    limit(
      b.rawLength > blockSize
        ? `claims ${b.entries} entries in ${b.rawLength} bytes: a block over the block size (${blockSize}) holds one record`
        : `claims ${b.entries} entries, over the ${maxEntries} a block of ${blockSize} bytes can hold`,
      maxEntries,
      b.entries,
    );
  }
  const maxFrame = maxFrameLength(b.rawLength);
  if (b.frameLength > maxFrame) limit(`has a ${b.frameLength}-byte frame for ${b.rawLength} bytes`, maxFrame, b.frameLength);
  if (b.entries * RECORD_HEADER > b.rawLength) {
    throw new FormatError(`block ${b.seq} at byte ${offset} claims ${b.entries} entries in ${b.rawLength} bytes`, {
      offset,
      seq: b.seq,
      expected: Math.floor(b.rawLength / RECORD_HEADER),
      actual: b.entries,
    });
  }
}
