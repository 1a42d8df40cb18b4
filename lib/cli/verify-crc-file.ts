/**
 * `verify FILE` of a file with a CRC trailer (not a snapshot file): the check a CrcVerifier
 * makes, done by reading the file into one reused buffer and hashing each read while it is still
 * in the cache. A stream (fs.createReadStream → CrcVerifier) reads into a fresh 1 MiB buffer per
 * read, which the kernel fills on another thread and the CRC then reads back from memory: about
 * half the CPU time here, where CRC32 reads bytes still in the cache (docs/BENCHMARKS.md, "Data
 * that does not compress", gives the figures). The reads are synchronous, on this thread, as the
 * stock tools read: no round trip through libuv's thread pool per read.
 */
import fs from 'node:fs';
import { wrapIoError } from '../errors.js';
import { crc32 } from '../format/crc32.js';
import { CRC_TRAILER_SIZE } from '../streams/crc-footer.js';
import { trailerError } from '../streams/crc-verifier.js';

/** Bytes per read: small enough to stay in a core's cache between the read and the CRC. */
export const VERIFY_READ_SIZE = 256 * 1024;

/** Bytes read between two turns of the event loop. */
const YIELD_BYTES = 16 * 1024 * 1024;

/** What {@link verifyCrcFile} checked. */
export interface CrcFileResult {
  /** Bytes of the file, trailer included. */
  bytes: number;
  /** Bytes before the trailer, and their CRC32 (the trailer's values). */
  length: number;
  crc: number;
}

/**
 * Reads `file` to its end and checks its CRC trailer; rejects with the error a CrcVerifier fails
 * with (SNAP_ERR_CHECKSUM, SNAP_ERR_TRUNCATED), or an IoError. `onBytes` is told the bytes read so far.
 */
export async function verifyCrcFile(file: string, onBytes?: (bytes: number) => void, readSize = VERIFY_READ_SIZE): Promise<CrcFileResult> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, 'r', (err, fd) => (err ? reject(wrapIoError(err, `opening ${file}`)) : resolve(fd))));
  try {
    const buf = Buffer.allocUnsafeSlow(Math.max(readSize, CRC_TRAILER_SIZE));
    let crc = 0;
    let length = 0;
    let bytes = 0;
    // The last bytes read, which may be the trailer: hashed only once more bytes follow them.
    let held = Buffer.alloc(0);
    for (let sinceYield = 0; ; ) {
      // Synchronous reads on this thread: a read on libuv's pool costs two thread wake-ups,
      // which on this VM take longer than reading and hashing 256 KiB (docs/BENCHMARKS.md).
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, bytes);
      } catch (err) {
        throw wrapIoError(err, `reading ${file}`);
      }
      if (n === 0) break;
      bytes += n;
      onBytes?.(bytes);
      if (n >= CRC_TRAILER_SIZE) {
        crc = crc32(held, crc);
        length += held.length;
        crc = crc32(buf.subarray(0, n - CRC_TRAILER_SIZE), crc);
        length += n - CRC_TRAILER_SIZE;
        held = Buffer.from(buf.subarray(n - CRC_TRAILER_SIZE, n));
      } else {
        const joined = Buffer.concat([held, buf.subarray(0, n)]);
        const excess = Math.max(0, joined.length - CRC_TRAILER_SIZE);
        crc = crc32(joined.subarray(0, excess), crc);
        length += excess;
        held = joined.subarray(excess);
      }
      // Now and then, let timers (the progress line) and signal handlers run.
      if ((sinceYield += n) >= YIELD_BYTES) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const err = trailerError(held, length, crc);
    if (err) throw err;
    return { bytes, length, crc };
  } finally {
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }
}
