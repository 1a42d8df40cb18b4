/**
 * The content of a stored frame: a zstd frame of raw blocks or an LZ4 frame of uncompressed
 * blocks, without checksums (what both formats make of data that does not compress, and what
 * codec `none` writes). Its bytes are the frame's own, between block headers, so they are read
 * out as views, with no decoder, no worker thread and no copy: incompressible data decompresses
 * at the speed of memory.
 *
 * Only for frames a {@link FrameWalker} has walked whole and found `stored`: block types and
 * sizes are checked there; the declared content size is checked here.
 */
import { FormatError } from '../errors.js';
import type { FrameHeader } from './frame-format.js';

/** The front of a byte queue holding at least one whole frame. */
export interface FrameBytes {
  /** `n` bytes from `pos` (a view, or a copy when they span chunks). */
  peek(pos: number, n: number): Buffer;
  /** Drops the first `n` bytes. */
  skip(n: number): void;
  /** Removes the first `n` bytes and returns them as views. */
  takeParts(n: number): Buffer[];
}

/**
 * Takes the stored frame at the front of `input` off it and returns its content as views of the
 * input (empty for an empty frame). `offset` is the frame's place in the stream, for errors.
 */
export function takeStoredContent(input: FrameBytes, header: FrameHeader, offset: number): Buffer[] {
  const parts: Buffer[] = [];
  let total = 0;
  const take = (size: number): void => {
    if (size === 0) return;
    for (const p of input.takeParts(size)) parts.push(p);
    total += size;
  };
  input.skip(header.headerSize);
  if (header.kind === 'zstd') {
    for (;;) {
      const bh = input.peek(0, 3).readUIntLE(0, 3);
      input.skip(3);
      take(bh >>> 3);
      if (bh & 1) break;
    }
  } else {
    for (;;) {
      const word = input.peek(0, 4).readUInt32LE(0);
      input.skip(4);
      if (word === 0) break;
      take(word & 0x7fffffff);
    }
  }
  if (header.contentSize !== null && header.contentSize !== total) {
    throw new FormatError(`${header.kind} frame at byte ${offset} declares ${header.contentSize} bytes, holds ${total}`, {
      offset,
      expected: header.contentSize,
      actual: total,
    });
  }
  return parts;
}
