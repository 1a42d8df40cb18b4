/**
 * inspectSnapshot: what a snapshot file holds — header and metadata, every block, totals and
 * ratio — read from its metadata frames alone (the data frames are hopped over).
 * verifySnapshot: checks every byte (all CRCs, every frame decompressed) without decoding entries.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { wrapIoError } from '../errors.js';
import { FOOTER_FRAME_SIZE, type BlockHeader, type SnapshotFooter, type SnapshotHeader } from '../format/snapshot-frames.js';
import { Decompressor } from '../streams/decompressor.js';
import { walkSnapshotFrames } from './block-index.js';
import { SnapshotParser } from './snapshot-parser.js';

export interface SnapshotInfo {
  path: string;
  /** Size of the file in bytes. */
  fileSize: number;
  header: SnapshotHeader;
  blocks: BlockHeader[];
  footer: SnapshotFooter;
  entries: number;
  /** Bytes of encoded entries (uncompressed). */
  rawBytes: number;
  /** rawBytes / fileSize. */
  ratio: number;
}

/** Lists a snapshot file's header, blocks and totals, reading only its metadata frames. */
export async function inspectSnapshot(path: string): Promise<SnapshotInfo> {
  const file = await openFile(path);
  try {
    const { size } = await file.stat();
    let header: SnapshotHeader | null = null;
    let footer: SnapshotFooter | null = null;
    const blocks: BlockHeader[] = [];
    for await (const f of walkSnapshotFrames(file, size)) {
      if (f.kind === 'header') header = f.header;
      else if (f.kind === 'block') blocks.push(f.block);
      else footer = f.footer;
    }
    const done = footer!;
    return {
      path,
      fileSize: size,
      header: header!,
      blocks,
      footer: done,
      entries: done.entriesTotal,
      rawBytes: done.rawTotal,
      ratio: size > 0 ? done.rawTotal / size : 0,
    };
  } finally {
    await file.close();
  }
}

export interface VerifyResult {
  path: string;
  header: SnapshotHeader;
  footer: SnapshotFooter;
  bytes: number;
}

/**
 * Reads the whole file and checks everything: every metadata frame's CRC, the running file CRC
 * at each block and at the footer, every data frame's CRC and that it decompresses to its size.
 * Resolves with the header and footer, or rejects with the first damage found.
 */
export async function verifySnapshot(path: string, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
  const parser = new SnapshotParser();
  await pipeline(
    fs.createReadStream(path, { highWaterMark: 1024 * 1024 }),
    parser,
    new Decompressor({ blocks: true }),
    new Writable({ objectMode: true, write: (_block, _enc, cb) => cb() }),
    ...(options.signal ? [{ signal: options.signal }] : []),
  ).catch((err: unknown) => {
    throw wrapIoError(err, `verifying ${path}`);
  });
  const footer = parser.footer!;
  return { path, header: parser.header!, footer, bytes: footer.offset + FOOTER_FRAME_SIZE };
}

async function openFile(path: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(path, 'r');
  } catch (err) {
    throw wrapIoError(err, `opening ${path}`);
  }
}
