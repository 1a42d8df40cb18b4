/**
 * readSnapshot: a snapshot file → entries, the composition
 * file → SnapshotParser → InFlightGate → Decompressor (block mode) → EntryDecoder (block mode).
 * Every block is checked before its entries are emitted; the stream ends with an error at the
 * first damage, after the entries of the blocks before it.
 */
import { addAbortSignal, pipeline, type Readable } from 'node:stream';
import { sharedPool } from '../codec/worker-pool.js';
import { holdLargeBlocks } from '../format/block-buffers.js';
import { Decompressor } from '../streams/decompressor.js';
import { EntryDecoder } from '../streams/entry-decoder.js';
import type { EntryParserOptions } from '../format/entry-parser.js';
import type { SnapshotHeader } from '../format/snapshot-frames.js';
import type { EntryColumns } from '../format/entry-columns.js';
import { wrapIoError } from '../errors.js';
import { Leases, withLeases } from '../format/leases.js';
import { RecycledFileReader } from './recycled-file-reader.js';
import { InFlightGate } from './in-flight-gate.js';
import { SnapshotParser } from './snapshot-parser.js';

/**
 * Options of {@link readSnapshot}. `copy` defaults to true here: set it false for views into the
 * decompressed blocks, faster but pinning them.
 */
export interface ReadSnapshotOptions extends EntryParserOptions {
  /**
   * `true`: emit arrays of entries (at most 128 each, never across blocks) instead of single
   * entries: much faster for small entries. `'columns'`: emit {@link EntryColumns} batches (at
   * most 4,096 entries each, never across blocks): one object holding the records' bytes and
   * offsets, no object or Buffer per entry until one is asked for; the fastest way to read
   * millions of small entries.
   */
  batch?: boolean | 'columns';
  /** Blocks decompressed at once. Default: one per worker thread. */
  concurrency?: number;
  /**
   * Most bytes of blocks (compressed frame + decompressed data) held between reading and
   * decoding at once; one block is always let through, however large. Default 64 MiB: a file
   * of 64 MiB blocks is read one block at a time, one of 1 MiB blocks is not held back at all.
   */
  maxBytesInFlight?: number;
  /** Aborting it destroys the stream with an `AbortError`. */
  signal?: AbortSignal;
}

/** The entry stream of {@link readSnapshot}; `header` is set once the header has been read. */
export interface SnapshotEntryStream extends EntryDecoder {
  /** The snapshot's header frame; null until it has been read. */
  header: SnapshotHeader | null;
  /** The most bytes of blocks (compressed frame + decompressed data) held in the reader at once so far: at most `maxBytesInFlight`, or one block. */
  readonly peakBytesInFlight: number;
}

/** Streams the entries of the snapshot file at `path` (or of a stream of its bytes). Emits `header` when the header is read. */
export function readSnapshot(path: string | Readable, options: ReadSnapshotOptions = {}): SnapshotEntryStream {
  // A path, or the snapshot's bytes from anywhere (an S3Source, a socket).
  // Pooled memory lent along this pipeline only: file chunks (a path is read into pooled
  // buffers) that the parser gives back as it goes, frames it copied out, decompressed blocks.
  const leases = new Leases();
  const file = typeof path === 'string' ? new RecycledFileReader(path, { leases }) : path;
  const what = typeof path === 'string' ? path : 'the snapshot stream';
  const parser = new SnapshotParser(withLeases({}, leases));
  // One block per worker, not two: with more decoded ahead, V8 doubled its young generation on a
  // long read, trading resident memory for a little speed (docs/BENCHMARKS.md, "Figures behind
  // choices in the code"). Blocks of small entries all go to one worker, these two queued at it;
  // the first blocks are decoded on this thread while it starts (Decompressor, readerPlacement).
  const decompressor = new Decompressor(withLeases({ blocks: true, concurrency: options.concurrency ?? sharedPool().size }, leases));
  // Keys and values are copied out of each block (default), so blocks go back to the pool at once and
  // entries the caller keeps do not pin megabytes of decompressed data.
  const decoder = new EntryDecoder(withLeases({ copy: true, ...options, blocks: true }, leases)) as SnapshotEntryStream;
  // Bounds the blocks in flight by bytes, where the stages after it count blocks.
  const gate = new InFlightGate(options.maxBytesInFlight);
  decoder.on('progress', (p: { bytes: number }) => gate.consumed(p.bytes));
  Object.defineProperty(decoder, 'peakBytesInFlight', { get: () => gate.peak, enumerable: true });
  decoder.header = null;
  parser.on('header', (h: SnapshotHeader) => {
    decoder.header = h;
    decoder.emit('header', h);
  });
  file.on('error', (err: Error) => decoder.destroy(wrapIoError(err, `reading ${what}`)));
  // Blocks of 64 MiB are reused inside this pipeline while it runs.
  const release = holdLargeBlocks();
  pipeline(file, parser, gate, decompressor, decoder, release);
  if (options.signal) addAbortSignal(options.signal, decoder);
  return decoder;
}
