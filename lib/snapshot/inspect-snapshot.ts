/**
 * inspectSnapshot: what a snapshot file holds — header and metadata, every block, totals and
 * ratio — read from its metadata frames alone (the data frames are hopped over).
 * verifySnapshot: checks every byte (all CRCs, every frame decompressed) without decoding entries.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import { FormatError, wrapIoError } from '../errors.js';
import { FOOTER_FRAME_SIZE, type BlockHeader, type SnapshotFooter, type SnapshotHeader } from '../format/snapshot-frames.js';
import { Decompressor } from '../streams/decompressor.js';
import { holdLargeBlocks } from '../format/block-buffers.js';
import { Leases, withLeases } from '../format/leases.js';
import { walkSnapshotFrames } from './block-index.js';
import { InFlightGate } from './in-flight-gate.js';
import { SnapshotParser } from './snapshot-parser.js';

/** What {@link inspectSnapshot} read from a snapshot file's metadata frames. */
export interface SnapshotInfo {
  /** The file inspected. */
  path: string;
  /** Size of the file in bytes. */
  fileSize: number;
  /** The header frame. */
  header: SnapshotHeader;
  /** Every block header, in order. */
  blocks: BlockHeader[];
  /** The footer frame. */
  footer: SnapshotFooter;
  /** Entries in the file. */
  entries: number;
  /** Bytes of encoded entries (uncompressed). */
  rawBytes: number;
  /** rawBytes / fileSize. */
  ratio: number;
}

/**
 * Lists a snapshot file's header, blocks and totals, reading only its metadata frames. Rejects a
 * file with bytes after its footer (`SNAP_ERR_FORMAT`) and a block header claiming more than a
 * writer makes (`SNAP_ERR_LIMIT`).
 */
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
    // As readSnapshot and verifySnapshot do: a file is whole only if it ends with its footer.
    const end = done.offset + FOOTER_FRAME_SIZE;
    if (end !== size) throw new FormatError(`unexpected bytes after the footer at byte ${end}`, { offset: end, expected: end, actual: size });
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

/** What {@link verifySnapshot} checked. */
export interface VerifyResult {
  /** The file verified (`'the snapshot stream'` when given a stream). */
  path: string;
  /** The header frame. */
  header: SnapshotHeader;
  /** The footer frame. */
  footer: SnapshotFooter;
  /** Bytes checked: the file up to the end of its footer. */
  bytes: number;
  /** The most bytes of blocks (compressed frame + decompressed data) held at once: at most `maxBytesInFlight`, or one block. */
  peakBytesInFlight: number;
}

/** Options of {@link verifySnapshot}. */
export interface VerifyOptions {
  /** Aborting it rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Most bytes of blocks (compressed frame + decompressed data) held at once; one block always passes. Default 64 MiB. */
  maxBytesInFlight?: number;
}

/**
 * Reads the whole file (a path, or a stream of its bytes) and checks everything: every metadata frame's CRC, the running file CRC
 * at each block and at the footer, every data frame's CRC and digest (files that have digests) and that it decompresses to its size.
 * Resolves with the header and footer, or rejects with the first damage found.
 */
export async function verifySnapshot(path: string | Readable, options: VerifyOptions = {}): Promise<VerifyResult> {
  // Pooled memory lent along this closed pipeline only: decompressed blocks go back once checked.
  const leases = new Leases();
  // Every frame against its digest too (files that have them): verification is the whole check.
  const parser = new SnapshotParser(withLeases({ verifyDigests: true }, leases));
  const what = typeof path === 'string' ? path : 'the snapshot stream';
  // Blocks in flight bounded by bytes: four 64 MiB blocks at once took the process past 300 MB.
  const gate = new InFlightGate(options.maxBytesInFlight);
  let checked = 0;
  const sink = new Writable({
    objectMode: true,
    write: (block: { data: Buffer }, _enc, cb) => {
      checked += block.data.length;
      // Checked and dropped: the decompressed memory is refilled, not left to the collector.
      leases.giveBack(block.data);
      gate.consumed(checked);
      cb();
    },
  });
  const release = holdLargeBlocks();
  await pipeline(
    typeof path === 'string' ? fs.createReadStream(path, { highWaterMark: 1024 * 1024 }) : path,
    parser,
    gate,
    new Decompressor(withLeases({ blocks: true }, leases)),
    sink,
    ...(options.signal ? [{ signal: options.signal }] : []),
  ).catch((err: unknown) => {
    throw wrapIoError(err, `verifying ${what}`);
  }).finally(release);
  const footer = parser.footer!;
  return { path: what, header: parser.header!, footer, bytes: footer.offset + FOOTER_FRAME_SIZE, peakBytesInFlight: gate.peak };
}

async function openFile(path: string): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(path, 'r');
  } catch (err) {
    throw wrapIoError(err, `opening ${path}`);
  }
}
