/**
 * Decodes a whole LZ4 frame of independent blocks of at most 256 KiB (what snapstream writes)
 * block by block on the calling thread: each compressed block through lz4-napi's synchronous
 * block API, stored blocks as views of the frame.
 *
 * lz4-napi allocates its output with its own allocator (mimalloc); its asynchronous calls run on
 * libuv's pool threads, and memory allocated there and freed from the main thread (when V8
 * collects the Buffer) stayed resident: reading 256 MiB of lz4 frames of half-random data peaked
 * at ≈ 200 MB (`npm run bench`, read-bytes-lz4 and readSnapshot, mixed data), whether the frames
 * were decoded whole or in 256 KiB pieces, and however often V8 collected. Decoded on the main
 * thread, each piece is allocated and freed by one thread, and the memory is reused: ≈ 105 MB.
 * A 256 KiB block takes well under a millisecond, so the event loop is not held up for long.
 *
 * Frames of any other shape (linked blocks, block or content checksums, larger blocks, anything
 * unexpected) are left to lz4-napi's asynchronous frame decoder, as before.
 */
import { createRequire } from 'node:module';
import type * as Lz4Napi from 'lz4-napi';
import { CodecError, FormatError } from '../errors.js';
import { allocStaging, recycleBlock } from '../format/block-buffers.js';
import { LZ4_MAGIC, parseFrameHeader } from './frame-format.js';

/** Largest block decoded here: the blocks snapstream writes. */
const MAX_BLOCK = 256 * 1024;
const STORED = 0x8000_0000;

/**
 * The content of one whole LZ4 frame as pieces in order (views of `frame` for stored blocks):
 * decoded block by block when it is of the shape {@link decodeLz4Blocks} takes, else by
 * lz4-napi's frame decoder. `rawLength`, if known, is checked. `offset` is the frame's place in
 * the stream, for errors.
 */
export async function decodeLz4Frame(frame: Buffer, rawLength: number | null, offset: number): Promise<Buffer[]> {
  const pieces = decodeLz4Blocks(frame, offset) ?? [await codec(() => lz4Napi().decompressFrame(frame), offset)];
  let total = 0;
  for (const p of pieces) total += p.length;
  if (rawLength !== null && total !== rawLength) {
    throw new FormatError(`LZ4 frame at byte ${offset} holds ${total} bytes, expected ${rawLength}`, {
      offset,
      expected: rawLength,
      actual: total,
    });
  }
  return pieces;
}

/**
 * The content of `frame` (one whole LZ4 frame, nothing after it) as pieces in order, or null
 * when the frame is not of the shape decoded here. `offset` is its place in the stream, for errors.
 */
export function decodeLz4Blocks(frame: Buffer, offset: number): Buffer[] | null {
  if (frame.length < 7 || frame.readUInt32LE(0) !== LZ4_MAGIC) return null;
  let header;
  try {
    header = parseFrameHeader(frame, 0, offset);
  } catch {
    return null; // lz4-napi says what is wrong with it, as before
  }
  if (!header || header.kind !== 'lz4' || !header.blockIndependent || header.blockChecksum || header.contentChecksum || header.blockMaxSize > MAX_BLOCK) {
    return null;
  }
  const blocks: { at: number; size: number; stored: boolean }[] = [];
  let pos = header.headerSize;
  for (;;) {
    if (pos + 4 > frame.length) return null;
    const word = frame.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~STORED;
    if (size > header.blockMaxSize || pos + size > frame.length) return null;
    blocks.push({ at: pos, size, stored: (word & STORED) !== 0 });
    pos += size;
  }
  if (pos !== frame.length) return null;
  const lz4 = lz4Napi();
  const pieces: Buffer[] = [];
  let input: Buffer | null = null;
  try {
    for (const { at, size, stored } of blocks) {
      if (stored) {
        pieces.push(frame.subarray(at, at + size));
        continue;
      }
      // The block API takes the decoded size first: the most a block may hold (it returns what the block holds).
      input ??= allocStaging(4 + header.blockMaxSize);
      const block = input.subarray(0, 4 + size);
      block.writeUInt32LE(header.blockMaxSize, 0);
      frame.copy(block, 4, at, at + size);
      try {
        pieces.push(lz4.uncompressSync(block));
      } catch (cause) {
        throw new CodecError(`lz4 failed in frame at byte ${offset}: ${(cause as Error).message}`, { cause, offset });
      }
    }
  } finally {
    if (input) recycleBlock(input.buffer);
  }
  let total = 0;
  for (const p of pieces) total += p.length;
  if (header.contentSize !== null && header.contentSize !== total) {
    throw new FormatError(`lz4 frame at byte ${offset} declares ${header.contentSize} bytes, holds ${total}`, {
      offset,
      expected: header.contentSize,
      actual: total,
    });
  }
  return pieces;
}

/** lz4-napi's errors as a CodecError (what it refuses is not known to be damage: the CRC tells). */
async function codec<T>(run: () => Promise<T>, offset: number): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    throw new CodecError(`lz4 failed in frame at byte ${offset}: ${(cause as Error).message}`, { cause, offset });
  }
}

let binding: typeof Lz4Napi | null = null;

function lz4Napi(): typeof Lz4Napi {
  binding ??= createRequire(import.meta.url)('lz4-napi') as typeof Lz4Napi;
  return binding;
}
