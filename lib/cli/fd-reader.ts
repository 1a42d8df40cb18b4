/**
 * A regular file on a descriptor as a Readable, read with synchronous reads on this thread, as
 * `cat` and the stock tools read. `fs.createReadStream` reads on libuv's thread pool: each read
 * is a round trip that wakes a pool thread and then this one, and on a VM those two wake-ups take
 * longer than reading 256 KiB out of the page cache (docs/BENCHMARKS.md, "Data that does not
 * compress", session 9). A read of a file blocks this thread for that long only; the CLI runs
 * one command, with nothing else waiting on its thread.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';

/** Reads fd `fd` from its current offset (`< FILE` may have been read into before) to its end. */
export class FdReader extends Readable {
  /** Bytes read so far. */
  bytes = 0;

  /** `buffer()` gives the memory of each read (its length is the read's size). */
  constructor(
    private readonly fd: number,
    private readonly buffer: () => Buffer,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
  }

  override _read(): void {
    const buf = this.buffer();
    let n: number;
    try {
      // No position: from where the descriptor's offset stands, as `cat` reads.
      n = fs.readSync(this.fd, buf, 0, buf.length, null);
    } catch (err) {
      return void this.destroy(err as Error);
    }
    if (n === 0) return void this.push(null);
    this.bytes += n;
    this.push(n === buf.length ? buf : buf.subarray(0, n));
  }
}
