/**
 * writeSnapshot: entries → a snapshot file, the composition
 * EntrySource → Compressor (block mode) → SnapshotFramer → ResumableFileSink.
 */
import { pipeline } from 'node:stream/promises';
import { checkBlockSize, checkCodec, DEFAULT_BLOCK_SIZE, type CodecName } from '../codec/codec.js';
import { Compressor } from '../streams/compressor.js';
import type { Progress } from '../streams/stage-options.js';
import { ResumableFileSink } from '../sink/resumable-file-sink.js';
import type { Entry } from '../format/entry.js';
import { EntrySource, type EntryIterable } from './entry-source.js';
import { SnapshotFramer } from './snapshot-framer.js';

export interface WriteSnapshotOptions {
  /** `zstd` (default), `lz4` or `none`. */
  codec?: CodecName;
  /** zstd level. Default 1. */
  level?: number;
  /** Raw bytes per block. Default 1 MiB. */
  blockSize?: number;
  /** User metadata for the header (Raft index and term, anything JSON). */
  meta?: Record<string, unknown>;
  /** Creation time in ms. Default: now. */
  createdAt?: number;
  /** The source cursor after an entry, stored per block. Default: entries so far. */
  cursorOf?: (entry: Entry, count: number) => unknown;
  /** Blocks compressed at once. */
  concurrency?: number;
  /** Bytes between fsyncs of the partial file. */
  syncEvery?: number;
  signal?: AbortSignal;
  /** Called as blocks are written. */
  onProgress?: (progress: Progress) => void;
}

export interface SnapshotSummary {
  path: string;
  codec: CodecName;
  /** Size of the file. */
  bytes: number;
  /** Entries written. */
  entries: number;
  /** Bytes of encoded entries before compression. */
  rawBytes: number;
  blocks: number;
}

/** Writes `entries` as a snapshot file at `path` (atomically: `<path>.partial`, then rename). */
export async function writeSnapshot(entries: EntryIterable, path: string, options: WriteSnapshotOptions = {}): Promise<SnapshotSummary> {
  const codec = checkCodec(options.codec ?? 'zstd');
  const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const source = new EntrySource(entries, { blockSize, ...(options.cursorOf ? { cursorOf: options.cursorOf } : {}) });
  const compressor = new Compressor({
    blocks: true,
    codec,
    blockSize,
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
  const framer = new SnapshotFramer({
    codec,
    blockSize,
    ...(options.meta ? { meta: options.meta } : {}),
    ...(options.createdAt !== undefined ? { createdAt: options.createdAt } : {}),
  });
  const sink = new ResumableFileSink({ path, ...(options.syncEvery !== undefined ? { syncEvery: options.syncEvery } : {}) });
  if (options.onProgress) {
    const report = options.onProgress;
    framer.on('progress', (p: Progress) => report(p));
  }
  await pipeline(source, compressor, framer, sink, ...(options.signal ? [{ signal: options.signal }] : []));
  const s = framer.position;
  return { path, codec, bytes: s.offset, entries: s.entriesTotal, rawBytes: s.rawTotal, blocks: s.blocks };
}
