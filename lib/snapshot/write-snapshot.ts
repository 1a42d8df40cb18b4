/**
 * writeSnapshot: entries → a snapshot file, the composition
 * EntrySource → Compressor (block mode) → SnapshotFramer → ResumableFileSink.
 *
 * Resumable: when the source is a function `(cursor) => entries`, an interrupted run's
 * `<path>.partial` is analysed on the next call; if it matches (same codec, block size and
 * metadata) writing continues after its last whole block, with the source restarted from the
 * cursor stored in that block. Nothing durable is written twice, and the finished file is the
 * one an uninterrupted run writes (byte for byte, for a deterministic source).
 */
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { checkBlockSize, checkCodec, DEFAULT_BLOCK_SIZE, type CodecName } from '../codec/codec.js';
import { sharedPool } from '../codec/worker-pool.js';
import { InvalidArgumentError, wrapIoError } from '../errors.js';
import type { Entry } from '../format/entry.js';
import { Leases, withLeases } from '../format/leases.js';
import type { SnapshotHeader } from '../format/snapshot-frames.js';
import { headerBlockSize, type BlockBoundaries } from '../format/content-boundaries.js';
import { partialPathFor, ResumableFileSink, unsyncedTail } from '../sink/resumable-file-sink.js';
import { Compressor } from '../streams/compressor.js';
import { OwnTime, withOwnTime } from '../streams/own-time.js';
import type { Progress } from '../streams/stage-options.js';
import { analyzePartial, type AnalyzePartialResult } from './analyze-partial.js';
import { EntrySource, type EntryIterable } from './entry-source.js';
import { followBusy, pacingOf } from './background.js';
import type { PaceOptions } from './pacer.js';
import { SnapshotFramer } from './snapshot-framer.js';

/** A source that can restart: given the cursor stored after the last durable block (or undefined to start), yields the entries after it. */
export type EntrySourceFactory = (cursor: unknown) => EntryIterable;

/** Options of {@link writeSnapshot}. */
export interface WriteSnapshotOptions {
  /** `zstd` (default), `lz4` or `none`. */
  codec?: CodecName;
  /** zstd level. Default 1. */
  level?: number;
  /**
   * Raw bytes per block. Default 1 MiB. With content boundaries (the default) the size blocks
   * average about: from half to twice it (at most 64 MiB, the header's `blockSize`).
   */
  blockSize?: number;
  /**
   * `'content'` (default): blocks end where the entries' keys say (docs/FORMAT.md 3.10), so an
   * update or insert changes only the block it falls in, and snapshots of similar state share
   * most data frames byte for byte (what a delta transfer skips). `'fixed'`: every block filled
   * up to `blockSize`, as before.
   */
  boundaries?: BlockBoundaries;
  /** User metadata for the header (Raft index and term, anything JSON). */
  meta?: Record<string, unknown>;
  /** Creation time in ms. Default: now (or, when resuming, the partial's). */
  createdAt?: number;
  /**
   * The source cursor after an entry, stored per block and handed back to the source factory on
   * resume. Default: the number of entries so far. A sorted database source returns the key.
   */
  cursorOf?: (entry: Entry, count: number) => unknown;
  /**
   * Give every block header its data frame's digest (docs/FORMAT.md 3.5), the identity that
   * lets a receiver holding equal frames skip them. Default true. False writes files that
   * snapstream readers before the digest revision read (they refuse the flag with
   * `SNAP_ERR_UNSUPPORTED`).
   */
  digests?: boolean;
  /** Resume a matching `<path>.partial`. Default: true when the source is a function. */
  resume?: boolean;
  /**
   * Blocks compressed at once. Default: enough for every core, and with `background` (the
   * default) at most all cores but one while the application keeps the event loop busy.
   */
  concurrency?: number;
  /**
   * How reading and encoding the entries share the main thread with the application (they
   * run on it: the entries live there). Default: `background`'s. See docs/CONSISTENCY.md,
   * "Sharing the main thread".
   */
  pace?: PaceOptions;
  /**
   * Default true: the snapshot runs beside the application. While the application keeps the
   * event loop busy, the snapshot takes at most a twentieth of the main thread (slices of 2 ms;
   * `pace` overrides) and compresses on all cores but one (`concurrency` overrides), leaving
   * the application its core; while the application is idle it runs at full speed. A snapshot
   * of a busy process takes longer, and holds the values the application's writes replace
   * (mapSource) for that much longer. `false`: full speed whatever the application does (slices
   * of 4 ms, every core).
   */
  background?: boolean;
  /** Bytes between fsyncs of the partial file. */
  syncEvery?: number;
  /** Aborting it rejects with an `AbortError`; the partial file is kept for a later resume. */
  signal?: AbortSignal;
  /** Called as blocks are written. */
  onProgress?: (progress: Progress) => void;
}

/** What {@link writeSnapshot} wrote. */
export interface WriteSnapshotResult {
  /** The final path. */
  path: string;
  /** Codec of the data frames. */
  codec: CodecName;
  /** Size of the file. */
  bytes: number;
  /** Entries written. */
  entries: number;
  /** Bytes of encoded entries before compression. */
  rawBytes: number;
  /** Blocks written. */
  blocks: number;
  /** Set when this run continued an interrupted one: what it kept. */
  resumed?: {
    /** Bytes of the partial file kept. */
    bytes: number;
    /** Whole blocks kept. */
    blocks: number;
    /** Entries in those blocks. */
    entries: number;
    /** Encoded bytes in those blocks. */
    rawBytes: number;
  };
  /** Set when a partial file was found but could not be resumed (and was replaced): why. */
  discarded?: string;
}

/** Writes entries as a snapshot file at `path` (atomically: `<path>.partial`, then rename). */
export async function writeSnapshot(
  source: EntryIterable | EntrySourceFactory,
  path: string,
  options: WriteSnapshotOptions = {},
): Promise<WriteSnapshotResult> {
  const codec = checkCodec(options.codec ?? 'zstd');
  const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const boundaries = checkBoundaries(options.boundaries ?? 'content');
  // What the header records: the largest block of several records, which readers bound blocks by.
  const maxBlock = headerBlockSize(blockSize, boundaries);
  const { pace, concurrency, follow } = pacingOf(options);
  const meta = options.meta ?? {};
  const digests = options.digests !== false;
  const restartable = typeof source === 'function';
  if (options.resume && !restartable) {
    throw new InvalidArgumentError('resume needs a source function (cursor) => entries');
  }
  // zstd blocks are compressed on the worker threads: started now, they are ready by the time
  // the first block is (starting one takes about as long as a source takes to give its first
  // entry: a database opening its iterator, sampleEntries building its values; docs/BENCHMARKS.md,
  // "The write side in a big heap and on small entries"). Idle, they keep no process alive.
  if (codec === 'zstd') sharedPool().start();
  const summary: Partial<WriteSnapshotResult> = {};
  let partial: AnalyzePartialResult | null = null;
  if (options.resume ?? restartable) {
    const found = await findPartial(partialPathFor(path), unsyncedTail(options.syncEvery));
    if (found) {
      const mismatch = headerMismatch(found, { codec, blockSize: maxBlock, meta, createdAt: options.createdAt, digests });
      if (mismatch === null) partial = found;
      else summary.discarded = mismatch;
    }
  }

  const entries = restartable ? (source as EntrySourceFactory)(partial?.cursor) : (source as EntryIterable);
  // Pooled memory lent along this closed pipeline only: blocks in shared memory from the source
  // to the compressor, frames from the compressor to the sink, which gives them back once written.
  const leases = new Leases();
  // The pipeline's own main-thread time outside the source's slices, which its pacer does not
  // take for the application's.
  const own = new OwnTime();
  const compressor = new Compressor(withOwnTime(withLeases({
    blocks: true,
    digests,
    codec,
    blockSize: maxBlock,
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  }, leases), own));
  const entrySource = new EntrySource(entries, withOwnTime(withLeases({
    blockSize,
    boundaries,
    startCount: partial?.entries ?? 0,
    pace,
    ...(follow ? { onBusy: followBusy(compressor) } : {}),
    ...(options.cursorOf ? { cursorOf: options.cursorOf } : {}),
  }, leases), own));
  const framer = new SnapshotFramer(withOwnTime({
    codec,
    blockSize: maxBlock,
    meta,
    digests,
    ...(options.createdAt !== undefined ? { createdAt: options.createdAt } : {}),
    ...(partial ? { resume: partial.state! } : {}),
  }, own));
  const sink = new ResumableFileSink(withLeases({
    path,
    resumeAt: partial?.durableBytes ?? 0,
    ...(options.syncEvery !== undefined ? { syncEvery: options.syncEvery } : {}),
  }, leases));
  if (options.onProgress) {
    const report = options.onProgress;
    framer.on('progress', (p: Progress) => report(p));
  }
  try {
    await pipeline(entrySource, compressor, framer, sink, ...(options.signal ? [{ signal: options.signal }] : []));
  } catch (err) {
    // Let a write already handed to the file land (and the file close) before the caller may
    // resume: otherwise it would race our last bytes.
    if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    throw err;
  }
  const s = framer.position;
  return {
    ...summary,
    path,
    codec,
    bytes: s.offset,
    entries: s.entriesTotal,
    rawBytes: s.rawTotal,
    blocks: s.blocks,
    ...(partial
      ? { resumed: { bytes: partial.durableBytes, blocks: partial.blocks, entries: partial.entries, rawBytes: partial.rawBytes } }
      : {}),
  };
}

function checkBoundaries(b: unknown): BlockBoundaries {
  if (b === 'content' || b === 'fixed') return b;
  throw new InvalidArgumentError(`boundaries must be 'content' or 'fixed', got ${String(b)}`);
}

/** The analysis of a partial file, or null if there is none. */
async function findPartial(partialPath: string, verifyBytes: number): Promise<AnalyzePartialResult | null> {
  try {
    await fsp.access(partialPath);
  } catch {
    return null;
  }
  try {
    // Everything the sink may have left unsynced is verified (all of it, with syncEvery 0).
    return await analyzePartial(partialPath, { verifyBytes });
  } catch (err) {
    throw wrapIoError(err, `analysing ${partialPath}`);
  }
}

/** Why a partial cannot be continued with these options, or null if it can. */
function headerMismatch(
  found: AnalyzePartialResult,
  want: { codec: CodecName; blockSize: number; meta: Record<string, unknown>; createdAt: number | undefined; digests: boolean },
): string | null {
  if (!found.resumable || !found.header) return found.reason ?? 'not resumable';
  const h: SnapshotHeader = found.header;
  if (h.codec !== want.codec) return `the partial uses codec ${h.codec}, not ${want.codec}`;
  if (h.blockSize !== want.blockSize) return `the partial uses block size ${h.blockSize}, not ${want.blockSize}`;
  if ((h.digests === true) !== want.digests) return `the partial was written ${want.digests ? 'without' : 'with'} frame digests`;
  if (JSON.stringify(h.meta) !== JSON.stringify(want.meta)) return 'the partial has different metadata';
  if (want.createdAt !== undefined && h.createdAt !== want.createdAt) return 'the partial has a different creation time';
  return null;
}
