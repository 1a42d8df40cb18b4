/**
 * A file's bytes as a Readable, read into recycled 1 MiB buffers marked recyclable: the
 * SnapshotParser hands each one back once it has copied out what it needs, so reading a
 * snapshot leaves no garbage per chunk. (fs.createReadStream allocates a fresh buffer for every
 * read; those outlived a young collection often enough to pile up as old garbage and hold
 * ≈ 10 MB more memory for the whole read.)
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { allocBlock, recycleBlock } from '../format/block-buffers.js';
import { markRecyclable } from '../format/recyclable.js';

const CHUNK = 1024 * 1024;

export class RecycledFileReader extends Readable {
  private fd: number | null = null;
  private position = 0;
  /** A read is in flight: closing waits for it (its fd must not be reused under it). */
  private reading = false;
  private closeWhenRead: (() => void) | null = null;

  constructor(private readonly path: string) {
    super({ highWaterMark: CHUNK });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    fs.open(this.path, 'r', (err, fd) => {
      if (!err) this.fd = fd;
      callback(err);
    });
  }

  override _read(): void {
    const chunk = allocBlock(CHUNK);
    this.reading = true;
    fs.read(this.fd!, chunk, 0, CHUNK, this.position, (err, n) => {
      this.reading = false;
      if (this.closeWhenRead) return this.closeWhenRead();
      if (err || n === 0) {
        recycleBlock(chunk.buffer);
        return err ? this.destroy(err) : void this.push(null);
      }
      this.position += n;
      markRecyclable(chunk);
      this.push(n === CHUNK ? chunk : chunk.subarray(0, n));
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
