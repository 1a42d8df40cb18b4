/**
 * analyzePartial: how far an interrupted snapshot file got, read from the file itself.
 *
 * Walks the metadata frames (a few hundred bytes per block, never the data), then verifies the
 * blocks in the last `verifyBytes` of the file (the region a crash may have left unsynced):
 * each data frame whole and matching its CRC, each header's file CRC matching the bytes before
 * it. A torn or damaged tail is cut back to the last block that checks out. The result says where
 * to truncate, the source cursor to restart from, and the running CRC and totals a framer needs
 * to carry on and finish the footer without re-reading what is already written.
 */
import fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SnapstreamError, wrapIoError } from '../errors.js';
import { crc32 } from '../format/crc32.js';
import type { BlockHeader, SnapshotHeader } from '../format/snapshot-frames.js';
import { readAt, walkSnapshotFrames } from './block-index.js';
import type { FramerState } from './snapshot-framer.js';
import { unsyncedTail } from '../sink/resumable-file-sink.js';
import { openExisting } from '../sink/safe-open.js';

/** Fewest blocks verified at the end, however small they are. */
const TAIL_BLOCKS = 2;

/** What {@link analyzePartial} found in a partial snapshot file. */
export interface AnalyzePartialResult {
  /** The file analysed. */
  path: string;
  /** Size of the file as found. */
  fileSize: number;
  /** True when the file starts with a valid header, so writing can continue after `durableBytes`. */
  resumable: boolean;
  /** Why it is not resumable, or what was cut off. */
  reason?: string;
  /** The file's header frame, when it is valid. */
  header?: SnapshotHeader;
  /** Length of the valid prefix: the header and every whole, verified block. */
  durableBytes: number;
  /** Whole blocks kept. */
  blocks: number;
  /** Entries in those blocks. */
  entries: number;
  /** Encoded bytes in those blocks. */
  rawBytes: number;
  /** Source cursor after the last kept block (undefined when no block was kept). */
  cursor?: unknown;
  /** True when the file already ends with a valid footer (finished, but never renamed). */
  complete: boolean;
  /** Where a SnapshotFramer resumes (`resume` option). */
  state?: FramerState;
}

/**
 * Options of {@link analyzePartial}. Not exported from the package root, so the API
 * reference shows it inline.
 * @inline
 */
export interface AnalyzeOptions {
  /**
   * How much of the file's end to verify block by block (data CRCs and the file CRC chain):
   * what a crash may have left unsynced. Default: what a sink with the default fsync interval
   * may leave, two intervals and a margin (144 MiB). Blocks before it are trusted from their
   * headers, so analysis costs the same whatever the size.
   */
  verifyBytes?: number;
}

/** Analyses the partial snapshot file at `path` (typically `<final>.partial`). */
export async function analyzePartial(path: string, options: AnalyzeOptions = {}): Promise<AnalyzePartialResult> {
  let file: FileHandle;
  try {
    file = await openExisting(path, 'r');
  } catch (err) {
    // A symbolic link or a directory at the partial's path is not a partial of ours: nothing to
    // resume (a writer then replaces the entry, never touching a link's target).
    const kind = await fsp.lstat(path).then((s) => (s.isSymbolicLink() ? 'a symbolic link' : s.isFile() ? null : 'not a regular file'), () => null);
    if (kind !== null) return { path, fileSize: 0, resumable: false, reason: `${path} is ${kind}`, durableBytes: 0, blocks: 0, entries: 0, rawBytes: 0, complete: false };
    throw wrapIoError(err, `opening ${path}`);
  }
  try {
    return await analyze(file, path, options.verifyBytes ?? unsyncedTail());
  } finally {
    await file.close();
  }
}

async function analyze(file: FileHandle, path: string, verifyBytes: number): Promise<AnalyzePartialResult> {
  const { size } = await file.stat();
  const result: AnalyzePartialResult = {
    path,
    fileSize: size,
    resumable: false,
    durableBytes: 0,
    blocks: 0,
    entries: 0,
    rawBytes: 0,
    complete: false,
  };
  let headerSize = 0;
  const tail: { block: BlockHeader; size: number }[] = [];
  let stop: string | undefined;
  try {
    for await (const f of walkSnapshotFrames(file, size)) {
      if (f.kind === 'header') {
        result.header = f.header;
        headerSize = f.size;
      } else if (f.kind === 'block') {
        tail.push({ block: f.block, size: f.size });
        // Remember the blocks in the last `verifyBytes` of the file (at least TAIL_BLOCKS):
        // what a crash may have left unsynced.
        while (tail.length > TAIL_BLOCKS && tail[1]!.block.offset < size - verifyBytes) tail.shift();
      } else {
        result.complete = true;
      }
    }
  } catch (err) {
    if (!(err instanceof SnapstreamError)) throw err;
    stop = err.message;
  }
  if (!result.header) {
    result.reason = `no valid header: ${stop ?? 'empty file'}`;
    return result;
  }

  // Verify the remembered tail forward: each data frame whole and matching its CRC, and each
  // block header's file CRC equal to the CRC of the bytes actually before it. The first block
  // that fails, and everything after it, is cut off (a power cut can lose pages out of order).
  let crc: number | null = null;
  for (const { block: b, size: frameSize } of tail) {
    const headerFrame = await readAt(file, b.offset, frameSize);
    const frame = await readAt(file, b.offset + frameSize, b.frameLength);
    const whole = frame.length === b.frameLength && crc32(frame) === b.frameCrc;
    if (!whole || (crc !== null && crc !== b.prefixCrc)) {
      stop = `block ${b.seq} at byte ${b.offset} is damaged or cut`;
      result.complete = false;
      break;
    }
    crc = crc32(frame, crc32(headerFrame, b.prefixCrc));
    const end = b.offset + frameSize + b.frameLength;
    result.state = { offset: end, crc, blocks: b.seq + 1, entriesTotal: b.entriesTotal, rawTotal: b.rawTotal, cursor: b.cursor };
    Object.assign(result, { durableBytes: end, blocks: b.seq + 1, entries: b.entriesTotal, rawBytes: b.rawTotal, cursor: b.cursor });
  }
  if (!result.state) {
    // No block checks out (or the damage reaches past the blocks remembered): keep the header.
    const header = await readAt(file, 0, headerSize);
    result.state = { offset: headerSize, crc: crc32(header), blocks: 0, entriesTotal: 0, rawTotal: 0 };
    result.durableBytes = headerSize;
  }
  result.resumable = true;
  if (stop !== undefined) result.reason = stop;
  return result;
}
