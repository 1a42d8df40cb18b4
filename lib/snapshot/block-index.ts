/**
 * Walks a snapshot file's metadata frames with positional reads — header, every block header,
 * footer — hopping over the data frames. Reads a few hundred bytes per block whatever the file
 * size: how `inspectSnapshot` lists blocks and how a partial file is analysed for resume.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FormatError, TruncatedError } from '../errors.js';
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
import { readFully } from '../sink/read-fully.js';
import { CachedReads } from '../sink/cached-reads.js';
import { checkBlockLimits } from '../format/block-limits.js';

const READ_AHEAD = 512;

/** One metadata frame read from a file; `bytes`: the whole frame as read. */
export type IndexedFrame =
  | { kind: 'header'; offset: number; size: number; header: SnapshotHeader; bytes: Buffer }
  | { kind: 'block'; offset: number; size: number; block: BlockHeader; bytes: Buffer }
  | { kind: 'footer'; offset: number; size: number; footer: SnapshotFooter; bytes: Buffer };

/** Options of {@link walkSnapshotFrames}. */
export interface WalkOptions {
  /**
   * Read with synchronous reads, giving the event loop a turn every SYNC_SLICE frames: for a file
   * known to be in the page cache (one just written), where each asynchronous read of a few
   * hundred bytes cost a round trip through libuv's thread pool, many times the read itself
   * (a 1 GiB snapshot's 2,000 block headers: ≈ 140 ms, against ≈ 15 ms read in place).
   * `'cached'`: the same while the reads are fast, through the thread pool once one was not (its
   * pages were not in the cache: sink/cached-reads.ts), for a file that is likely cached.
   */
  sync?: boolean | 'cached';
  /**
   * Reads `length` bytes at `position` (fewer only where what is known ends: at least a frame's
   * 8-byte header), in place of reading the file: a delta receiver serves the metadata frames it
   * received from memory, its partial having been written around the page cache.
   */
  read?: ReadAt;
}

/** Frames read synchronously between turns of the event loop. */
const SYNC_SLICE = 128;

/** A positional read of a snapshot file (see {@link WalkOptions.read}). */
export type ReadAt = (file: FileHandle, position: number, length: number) => Promise<Buffer> | Buffer;

/** Reads the whole metadata frame at `offset`, or throws Truncated/Format/Checksum errors. */
export async function readMetaFrame(file: FileHandle, offset: number, fileSize: number, read: ReadAt = readAt): Promise<Buffer> {
  const first = await read(file, offset, Math.min(READ_AHEAD, fileSize - offset));
  const length = metaFrameLength(first, offset);
  if (length === null) throw new TruncatedError(`file ends inside a frame header at byte ${offset}`, { offset });
  const size = SKIPPABLE_HEADER + length;
  if (offset + size > fileSize) throw new TruncatedError(`file ends inside the frame at byte ${offset}`, { offset });
  return size <= first.length ? first.subarray(0, size) : read(file, offset, size);
}

/**
 * Yields the header, then each block header in order, then the footer if the file has one.
 * Stops with an error at the first frame that is cut or damaged; a data frame running past the
 * end of the file ends the walk with a TruncatedError.
 */
export async function* walkSnapshotFrames(file: FileHandle, fileSize: number, options: WalkOptions = {}): AsyncGenerator<IndexedFrame> {
  const read = options.read ?? (options.sync === 'cached' ? cachedReadAt(file) : options.sync ? readAtSync : readAt);
  const headerFrame = await readMetaFrame(file, 0, fileSize, read);
  const header = decodeHeader(headerFrame, 0);
  yield { kind: 'header', offset: 0, size: headerFrame.length, header, bytes: headerFrame };
  let offset = headerFrame.length;
  for (let seq = 0; ; seq++) {
    if (offset >= fileSize) throw new TruncatedError(`file ends at byte ${offset} with no footer`, { offset });
    if (options.sync && seq % SYNC_SLICE === SYNC_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
    const frame = await readMetaFrame(file, offset, fileSize, read);
    const tag = frameTag(frame);
    if (tag === TAG_FOOTER) {
      yield { kind: 'footer', offset, size: frame.length, footer: decodeFooter(frame, offset), bytes: frame };
      return;
    }
    if (tag !== TAG_BLOCK) throw new FormatError(`unexpected frame ${JSON.stringify(tag)} at byte ${offset}`, { offset });
    const block = decodeBlockHeader(frame, offset, header.digests === true);
    if (block.seq !== seq || block.offset !== offset) {
      throw new FormatError(`block header at byte ${offset} is out of place (seq ${block.seq}, offset ${block.offset})`, {
        offset,
        seq: block.seq,
      });
    }
    checkBlockLimits(block, header.blockSize, offset);
    const end = offset + frame.length + block.frameLength;
    if (end > fileSize) {
      throw new TruncatedError(`data frame of block ${seq} runs past the end of the file`, { offset, seq });
    }
    yield { kind: 'block', offset, size: frame.length, block, bytes: frame };
    offset = end;
  }
}

/** {@link readAt} in place while the file's pages are cached (sink/cached-reads.ts). */
function cachedReadAt(file: FileHandle): ReadAt {
  const reads = new CachedReads(file);
  return (_file, position, length) => {
    const buf = Buffer.allocUnsafe(Math.max(0, length));
    const n = reads.read(buf, position);
    return typeof n === 'number' ? buf.subarray(0, n) : n.then((filled) => buf.subarray(0, filled));
  };
}

/** Reads exactly `length` bytes at `position` (short only at end of file). */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(Math.max(0, length));
  return buf.subarray(0, await readFully(file, buf, position));
}

/** {@link readAt} with a synchronous read. */
export function readAtSync(file: FileHandle, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.max(0, length));
  let filled = 0;
  while (filled < buf.length) {
    const n = fs.readSync(file.fd, buf, filled, buf.length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return buf.subarray(0, filled);
}
