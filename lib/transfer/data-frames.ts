/**
 * The data frames of a snapshot file, as a delta transfer sees them: where each lies, its length,
 * its CRC32 (from its block header) and its digest (from its block header when the file's
 * revision has one, else computed from the bytes: {@link frameDigest}).
 */
import type { FileHandle } from 'node:fs/promises';
import { frameDigest } from '../format/frame-digest.js';
import { walkSnapshotFrames, readAt } from '../snapshot/block-index.js';

/** One data frame of a snapshot file. */
export interface DataFrame {
  /** File offset of the data frame (just after its block header). */
  offset: number;
  /** Bytes in the data frame. */
  length: number;
  /** CRC32 of the data frame, as its block header says. */
  crc: number;
  /** The frame's digest (16 bytes). */
  digest: Buffer;
}

/** Limits of {@link readDataFrames}. */
export interface ReadDataFramesOptions {
  /** Leave out frames that end at or before this offset. Default 0. */
  from?: number;
  /** Stop after this many frames (the list is then incomplete). Default: no limit. */
  maxFrames?: number;
}

/**
 * The data frames of the snapshot file open as `file` (`size` bytes), in file order, or null if
 * it is not a whole snapshot file (any frame cut or damaged: such a file is no use as a base or
 * a delta source). Reads only the metadata frames (in place while they are in the page cache:
 * sink/cached-reads.ts), plus the data frames whose block header has no digest.
 */
export async function readDataFrames(file: FileHandle, size: number, options: ReadDataFramesOptions = {}): Promise<DataFrame[] | null> {
  const from = options.from ?? 0;
  const max = options.maxFrames ?? Number.POSITIVE_INFINITY;
  const frames: DataFrame[] = [];
  try {
    // The block headers are read in place while their pages are cached (a file just written or
    // received usually is): a read through the thread pool per header cost ≈ 50 µs of waiting each.
    for await (const f of walkSnapshotFrames(file, size, { sync: 'cached' })) {
      if (f.kind !== 'block') continue;
      const offset = f.offset + f.size;
      const length = f.block.frameLength;
      if (offset + length <= from) continue;
      if (frames.length >= max) break;
      // Files written before the digest revision: the digest is computed from the bytes.
      const digest = f.block.digest ?? frameDigest(await readAt(file, offset, length));
      frames.push({ offset, length, crc: f.block.frameCrc, digest });
    }
  } catch {
    return null;
  }
  return frames;
}
