/**
 * How much one whole frame may decompress to, checked before it is decoded: a block's frame
 * must not declare, or be able to expand to, more than the size its block header gives, so a
 * few kilobytes of hostile frame cannot make a reader allocate gigabytes.
 */
import { FormatError, LimitError } from '../errors.js';
import { FrameWalker, type FrameHeader } from './frame-format.js';

/**
 * Throws a {@link FormatError} when `frame` declares a content size other than `rawLength`, and a
 * {@link LimitError} when it is an LZ4 frame whose blocks could expand past `rawLength` by more
 * than one block (a zstd frame is decoded into exactly `rawLength` bytes and fails past them).
 */
export function checkFrameBound(header: FrameHeader, frame: Buffer, rawLength: number, offset: number): void {
  if (header.contentSize !== null && header.contentSize !== rawLength) {
    throw new FormatError(`frame at byte ${offset} declares ${header.contentSize} bytes, its block ${rawLength}`, {
      offset,
      expected: rawLength,
      actual: header.contentSize,
    });
  }
  if (header.kind !== 'lz4') return;
  // lz4-napi decodes a whole frame into memory it grows as it goes: bound it by the blocks.
  const walker = new FrameWalker(header, offset);
  walker.walk({ length: frame.length, peek: (pos, n) => frame.subarray(pos, pos + n) });
  const limit = rawLength + header.blockMaxSize;
  if (walker.contentBound > limit) {
    throw new LimitError(`LZ4 frame at byte ${offset} may expand to ${walker.contentBound} bytes, its block holds ${rawLength}`, {
      offset,
      expected: limit,
      actual: walker.contentBound,
    });
  }
}
