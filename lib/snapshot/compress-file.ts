/**
 * compressFile: a file of raw bytes → a compressed file, the byte path
 * file → Compressor → CrcFooter → ResumableFileSink, as fast as these stages go.
 *
 * The same stages composed by hand after `fs.createReadStream` do the same work, plus a copy of
 * every byte into a block and a fresh buffer per read. Here the file is read straight into
 * block-sized shared memory that the Compressor hands to a worker thread as it is, and that
 * comes back for the next read once compressed: faster on 2 cores, with less memory at peak, and
 * no garbage per chunk for a big heap's full collections (docs/BENCHMARKS.md, "Why the write
 * side is built as it is").
 *
 * The output is a standard `.zst` / `.lz4` file (with a CRC trailer in a skippable frame unless
 * `crc: false`), written crash-safely: `<target>.partial`, fsync'd, renamed.
 */
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { checkBlockSize, checkCodec, DEFAULT_BLOCK_SIZE, type CodecName } from '../codec/codec.js';
import { InvalidArgumentError, wrapIoError } from '../errors.js';
import { partialPathFor, ResumableFileSink } from '../sink/resumable-file-sink.js';
import { Compressor } from '../streams/compressor.js';
import { CrcFooter } from '../streams/crc-footer.js';
import type { Progress } from '../streams/stage-options.js';
import { Leases, withLeases } from '../format/leases.js';
import { RecycledFileReader } from './recycled-file-reader.js';

/** Options of {@link compressFile}. */
export interface CompressFileOptions {
  /** `zstd` (default), `lz4` or `none`. */
  codec?: CodecName;
  /** zstd level. Default 1. */
  level?: number;
  /** Raw bytes per frame. Default 1 MiB. */
  blockSize?: number;
  /** Blocks compressed at once. Default: enough to keep every worker thread busy. */
  concurrency?: number;
  /** Append the CRC trailer (as CrcFooter does). Default true. */
  crc?: boolean;
  /** Aborting it rejects with an `AbortError`; nothing is left at `target`. */
  signal?: AbortSignal;
  /** Called as frames are made: raw `bytes` read so far and `compressedBytes` made. */
  onProgress?: (progress: Progress) => void;
}

/** What {@link compressFile} wrote. */
export interface CompressFileResult {
  /** The compressed file. */
  path: string;
  /** Bytes read from the source. */
  bytesIn: number;
  /** Bytes of the compressed file (trailer included). */
  bytesOut: number;
  /** CRC32 of the compressed bytes before the trailer (the trailer's value), when `crc` is on. */
  crc?: number;
}

/** Compresses the file `source` into `target` (atomically: `<target>.partial`, then rename). */
export async function compressFile(source: string, target: string, options: CompressFileOptions = {}): Promise<CompressFileResult> {
  if (typeof source !== 'string' || source === '') throw new InvalidArgumentError('source must be a file path');
  if (typeof target !== 'string' || target === '') throw new InvalidArgumentError('target must be a file path');
  const codec = checkCodec(options.codec ?? 'zstd');
  const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  // Pooled memory lent along this closed pipeline only: file chunks from the reader to the
  // compressor, frames (with their CRCs, for the footer) from the compressor to the sink, which
  // gives them back once written.
  const leases = new Leases();
  const compressor = new Compressor(withLeases({
    codec,
    blockSize,
    ...(options.level !== undefined ? { level: options.level } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  }, leases));
  // Chunks of exactly one block, in memory that only the compressor below ever reads. Shared
  // memory is what zstd's worker threads use in place; lz4 and none compress on this thread.
  const reader = new RecycledFileReader(source, { chunkSize: blockSize, shared: codec === 'zstd', leases });
  let bytesIn = 0;
  compressor.on('progress', (p: Progress) => {
    bytesIn = p.bytes;
    options.onProgress?.(p);
  });
  const footer = options.crc === false ? null : new CrcFooter(withLeases({}, leases));
  // Nothing resumes a partial output, but checkpoints (in the background) flush it as it is
  // written, so the fsync before the rename has little left to wait for.
  const sink = new ResumableFileSink(withLeases({ path: target }, leases));
  try {
    await pipeline([reader, compressor, ...(footer ? [footer] : []), sink], ...(options.signal ? [{ signal: options.signal }] : []));
  } catch (err) {
    if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    // Aborted too late to stop the rename: the file is whole and in place, so say so.
    if (!sink.installed) {
      // Nothing resumes a half-compressed file: leave no partial behind.
      await fsp.rm(partialPathFor(target), { force: true }).catch(() => {});
      throw wrapIoError(err, `compressing ${source} into ${target}`);
    }
  }
  return { path: target, bytesIn, bytesOut: sink.written, ...(footer ? { crc: footer.crc } : {}) };
}
