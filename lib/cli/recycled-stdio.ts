/**
 * Standard input and output of a filter whose input is a regular file and whose output is a
 * file or /dev/null (`snapstream decompress < IN > OUT`): the input is read into a few buffers
 * that are reused, not into a fresh buffer per read. A fresh buffer is memory the kernel fills
 * cold and the stages then read back from memory; a reused buffer halves the CPU time of reading
 * and hashing (docs/BENCHMARKS.md, "Data that does not compress"). The stages may pass views of their input on (the Decompressor does with stored
 * frames, the CrcVerifier with everything), so a buffer is reused only when no view of it can
 * remain: the stages between reader and writer keep the order of the bytes, so once the writer
 * has written a view of the buffer read after it, the stages have consumed all of it and every
 * view of it is written. A buffer no later view vouches for (compressed frames come out in
 * memory of their own) is never reused: the reader then reads into fresh memory, as before.
 *
 * Input is read and output written with synchronous calls on this thread, as Node's own stdout
 * writes to files; output is gathered into `writev` calls of 256 KiB or more.
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import tty from 'node:tty';
import { dropBytes } from '../streams/byte-queue.js';
import { FdReader } from './fd-reader.js';

/** Bytes per read of the input. */
export const RECYCLED_READ_SIZE = 256 * 1024;

/** Buffers read ahead and in flight through the stages before fresh memory is used. */
const RING = 8;

/** True when fd `out` is a regular file or a character device that is not a terminal (/dev/null). */
export function writableByFd(out: number): boolean {
  try {
    const st = fs.fstatSync(out);
    return st.isFile() || (st.isCharacterDevice() && !tty.isatty(out));
  } catch {
    return false;
  }
}

interface Slot {
  buf: Buffer;
  /** The read that filled it, while its bytes may still be anywhere in the stages. */
  seq: number;
  busy: boolean;
}

/** The reader's buffers, and the writer's word on which of them are free again. */
export class ReadRing {
  private readonly slots: Slot[] = [];
  private readonly byBuffer = new Map<ArrayBufferLike, Slot>();
  private seq = 0;
  /** Reads made into fresh memory because every buffer of the ring was in use. */
  fresh = 0;

  constructor(private readonly size = RECYCLED_READ_SIZE) {}

  /** A buffer for the next read, and its sequence number. */
  next(): { buf: Buffer; seq: number } {
    const seq = this.seq++;
    let slot = this.slots.find((s) => !s.busy);
    if (!slot && this.slots.length < RING) {
      slot = { buf: Buffer.allocUnsafeSlow(this.size), seq, busy: false };
      this.slots.push(slot);
      this.byBuffer.set(slot.buf.buffer, slot);
    }
    if (!slot) {
      this.fresh++;
      return { buf: Buffer.allocUnsafeSlow(this.size), seq };
    }
    slot.busy = true;
    slot.seq = seq;
    return { buf: slot.buf, seq };
  }

  /** The writer has written `chunk`: if it is a view of a ring buffer, every buffer read before that one is free. */
  written(chunk: Uint8Array): void {
    const slot = this.byBuffer.get(chunk.buffer);
    if (!slot || !slot.busy) return;
    for (const s of this.slots) if (s.busy && s.seq < slot.seq) s.busy = false;
  }
}

/** A regular file on fd `fd` read from its current offset into the ring's buffers (synchronous reads: lib/cli/fd-reader.ts). */
export class RingReader extends FdReader {
  constructor(fd: number, ring: ReadRing) {
    super(fd, () => ring.next().buf, RECYCLED_READ_SIZE);
  }
}

/**
 * Output gathered into one `writev` before it is written: the Decompressor passes a stored frame
 * on as views of its blocks (at most 128 KiB each), a system call apiece otherwise.
 */
export const WRITE_BATCH = 256 * 1024;

/** Writes the chunks to fd `fd` synchronously, {@link WRITE_BATCH} bytes or more at a time, then tells the ring. */
export class FdWriter extends Writable {
  /** Bytes written so far. */
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly fd: number,
    private readonly ring: ReadRing,
  ) {
    super({ highWaterMark: RECYCLED_READ_SIZE });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    callback(this.pendingBytes >= WRITE_BATCH ? this.flush() : null);
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback(this.flush());
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // A stage failed: what came through before it is written, as it was before writes were gathered.
    if (err && this.pending.length > 0) this.flush();
    callback(err);
  }

  private flush(): Error | null {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      // writev may write less than asked (a signal, a nearly full disk): go on where it stopped.
      for (let left = chunks; left.length > 0; ) left = dropBytes(left, fs.writevSync(this.fd, left));
    } catch (err) {
      return err as Error;
    }
    for (const c of chunks) {
      this.bytes += c.length;
      this.ring.written(c);
    }
    return null;
  }
}
