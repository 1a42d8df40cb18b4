/**
 * analyzePartial: how far an interrupted snapshot file got, read from the file itself.
 *
 * Walks the metadata frames (a few hundred bytes per block, never the data), then reads the
 * data frame of the last block to check it is whole and matches its CRC; a torn or damaged
 * tail is cut back, block by block, to the last block that checks out. The result says where
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

/** Blocks remembered from the end of the walk, to step back over a damaged tail. */
const TAIL_BLOCKS = 8;

export interface PartialAnalysis {
  path: string;
  /** Size of the file as found. */
  fileSize: number;
  /** True when the file starts with a valid header, so writing can continue after `durableBytes`. */
  resumable: boolean;
  /** Why it is not resumable, or what was cut off. */
  reason?: string;
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

/** Analyses the partial snapshot file at `path` (typically `<final>.partial`). */
export async function analyzePartial(path: string): Promise<PartialAnalysis> {
  let file: FileHandle;
  try {
    file = await fsp.open(path, 'r');
  } catch (err) {
    throw wrapIoError(err, `opening ${path}`);
  }
  try {
    return await analyze(file, path);
  } finally {
    await file.close();
  }
}

async function analyze(file: FileHandle, path: string): Promise<PartialAnalysis> {
  const { size } = await file.stat();
  const result: PartialAnalysis = {
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
        if (tail.length > TAIL_BLOCKS) tail.shift();
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

  // The last blocks' data frames must be whole and match their CRC; step back past any that don't.
  while (tail.length > 0) {
    const last = tail[tail.length - 1]!;
    const frameAt = last.block.offset + last.size;
    const headerFrame = await readAt(file, last.block.offset, last.size);
    const frame = await readAt(file, frameAt, last.block.frameLength);
    if (frame.length === last.block.frameLength && crc32(frame) === last.block.frameCrc) {
      const b = last.block;
      const crc = crc32(frame, crc32(headerFrame, b.prefixCrc));
      const end = frameAt + b.frameLength;
      result.state = { offset: end, crc, blocks: b.seq + 1, entriesTotal: b.entriesTotal, rawTotal: b.rawTotal, cursor: b.cursor };
      Object.assign(result, { durableBytes: end, blocks: b.seq + 1, entries: b.entriesTotal, rawBytes: b.rawTotal, cursor: b.cursor });
      break;
    }
    stop = `block ${last.block.seq} at byte ${last.block.offset} is damaged or cut`;
    result.complete = false;
    tail.pop();
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
