/**
 * Small positioned reads that run in place while the file's pages are in the page cache, and go
 * through libuv's thread pool once one of them is not.
 *
 * An asynchronous read costs a round trip through the thread pool (≈ 50 µs of wall time, two
 * wake-ups), many times a read of a few hundred bytes from the page cache (a few µs). A walk of
 * a snapshot's block headers is a chain of such reads, each needing the one before it (the next
 * header lies past the data frame the last one sizes): 2,000 of them for a 1 GiB file took
 * ≈ 110 ms one after the other, ≈ 10 ms in place. A read in place that had to wait for the disk
 * blocks the event loop while it waits, so one that takes longer than SLOW_READ_NS (a cache miss)
 * turns this reader asynchronous for good: at most one such wait per reader.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { readFully } from './read-fully.js';

/** A read in place slower than this went to the disk. */
const SLOW_READ_NS = 500_000n;

/** Reads of one file, in place while they are fast; see the module comment. */
export class CachedReads {
  /** False once a read in place was slow: every later read goes through the thread pool. */
  inPlace = true;

  /** `slowNs`: a read in place slower than this (in nanoseconds) went to the disk. */
  constructor(
    private readonly file: FileHandle,
    private readonly slowNs = SLOW_READ_NS,
  ) {}

  /**
   * Fills `buf` from `position` until it is full or the file ends; returns the bytes read (a
   * number when read in place, else a promise of one).
   */
  read(buf: Uint8Array, position: number): number | Promise<number> {
    if (!this.inPlace) return readFully(this.file, buf, position);
    const start = process.hrtime.bigint();
    let filled = 0;
    while (filled < buf.length) {
      const n = fs.readSync(this.file.fd, buf, filled, buf.length - filled, position + filled);
      if (n === 0) break;
      filled += n;
    }
    if (process.hrtime.bigint() - start >= this.slowNs) this.inPlace = false;
    return filled;
  }
}
