/**
 * A file's bytes as a Readable, read into pooled buffers lent along a recipe's pipeline: the one stage
 * reading them hands each back once it has used it up, so reading a file leaves no garbage per
 * chunk. (fs.createReadStream allocates a fresh buffer for every read; those outlived a young
 * collection often enough to pile up as old garbage, held more memory for the whole read, cost
 * system time faulting in fresh pages, and in a process with a big heap start full collections
 * of all of it: docs/BENCHMARKS.md, "Why the write side is built as it is".)
 *
 * Internal on purpose: a chunk must reach exactly one snapstream stage, which is why only
 * recipes that build the whole pipeline (readSnapshot, compressFile) use it.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { wrapIoError } from '../errors.js';
import { allocBlock, recycleBlock } from '../format/block-buffers.js';
import type { Leases } from '../format/leases.js';

export interface RecycledFileReaderOptions {
  /** Bytes per read. Default 1 MiB. */
  chunkSize?: number;
  /** Read into shared memory, which a Compressor hands to its worker threads as it is. */
  shared?: boolean;
  /** The recipe's leases: every chunk is lent along its pipeline. */
  leases: Leases;
}

export class RecycledFileReader extends Readable {
  private readonly chunkSize: number;
  private readonly shared: boolean;
  private readonly leases: Leases;
  private fd: number | null = null;
  private position = 0;
  /** A read is in flight: closing waits for it (its fd must not be reused under it). */
  private reading = false;
  private closeWhenRead: (() => void) | null = null;

  constructor(
    private readonly path: string,
    options: RecycledFileReaderOptions,
  ) {
    const chunkSize = options.chunkSize ?? 1024 * 1024;
    super({ highWaterMark: chunkSize });
    this.chunkSize = chunkSize;
    this.shared = options.shared === true;
    this.leases = options.leases;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    fs.open(this.path, 'r', (err, fd) => {
      if (!err) this.fd = fd;
      callback(err ? wrapIoError(err, `opening ${this.path}`) : null);
    });
  }

  override _read(): void {
    const chunk = allocBlock(this.chunkSize, this.shared);
    this.reading = true;
    fs.read(this.fd!, chunk, 0, this.chunkSize, this.position, (err, n) => {
      this.reading = false;
      if (this.closeWhenRead) return this.closeWhenRead();
      if (err || n === 0) {
        recycleBlock(chunk.buffer);
        return err ? this.destroy(wrapIoError(err, `reading ${this.path}`)) : void this.push(null);
      }
      this.position += n;
      this.leases.lend(chunk);
      this.push(n === this.chunkSize ? chunk : chunk.subarray(0, n));
    });
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === null) return callback(err);
    this.fd = null;
    const close = (): void => fs.close(fd, (closeErr) => callback(err ?? closeErr));
    if (this.reading) this.closeWhenRead = close;
    else close();
  }
}
