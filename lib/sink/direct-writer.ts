/**
 * DirectWriter: appends bytes to a file with O_DIRECT writes, around the page cache.
 *
 * Why: a receiver writes every byte of the file it receives, and on the VMs measured here the
 * kernel's copy of those bytes into fresh page-cache pages was half of the receiver's CPU time
 * and all of its variance (docs/BENCHMARKS.md, "Delta transfer", sessions 8 and 9); a direct
 * write hands the same bytes to the disk from the process's own memory at a fraction of the
 * kernel time.
 *
 * How: the bytes are copied into staging memory of the writer's own (aligned-memory.ts), a few
 * slots of 4 MiB, and each slot, once full, goes out as one direct write of whole blocks while
 * the next fills (two or more in flight, issued in file order). Direct writes must start, end
 * and sit in memory on block boundaries, so what does not fill a block stays staged:
 *
 * - when the input goes idle (no write in flight and nothing appended for a turn of the event
 *   loop), the staged whole blocks are written direct; if it is still idle once they are
 *   written, the tail short of a block is written through the page cache (the file's ordinary
 *   handle). It stays staged: the next direct write rewrites its block, whole. (Linux keeps the
 *   two coherent: a direct write flushes and drops the cached pages of its range. The bytes
 *   are the same either way.) A peer waiting for the bytes to be in the file — a sender's
 *   window of unacknowledged data — is never left waiting on staged bytes;
 * - {@link DirectWriter.flush} writes everything staged at once (the end of the file, a NACK).
 *
 * `written` is only ever what the file holds (every write up to there completed): what a resume
 * reads back as the partial's length, at least. Durability is the caller's fsync, as with the
 * page cache (the device's cache, the file's size).
 *
 * Where O_DIRECT is refused — at the open (tmpfs: EINVAL; a platform without O_DIRECT; no aligned
 * memory) {@link DirectWriter.open} returns null and the caller writes as before; at a write
 * (EINVAL: a file system wanting more alignment) that write and every one after it go through
 * the page cache — silently, with a note under NODE_DEBUG=snapstream. Never a corruption error:
 * nothing is wrong with the bytes.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { allocAligned, freeAligned } from './aligned-memory.js';
import { readFully } from './read-fully.js';

const debug = debuglog('snapstream');

/**
 * Direct writes start and end on multiples of this. The disk measured here takes 512-byte
 * sectors, but ext4 treats a direct write that is not whole file system blocks (4 KiB) as
 * unaligned: it serialises it against every other and zeroes the rest of its blocks.
 */
export const DIRECT_BLOCK = 4096;
/** Bytes of one staging slot: the size of each direct write while the input keeps coming. */
export const DIRECT_SLOT = 4 * 1024 * 1024;
/** Staging slots: one filling while up to two are being written. */
const SLOTS = 3;

/** Errors a direct write answers with when the file system wants it otherwise. */
const REFUSED = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOTSUP']);

/** A write issued, in file order. */
interface Issued {
  end: number;
  done: boolean;
}

/** Called as the file grows (every write up to `written` completed), or when a write failed. */
export interface DirectWriterEvents {
  written(written: number): void;
  failed(err: unknown): void;
}

/** Appends to a file through O_DIRECT writes of staged whole blocks; see the module comment. */
export class DirectWriter {
  /** Bytes the file holds: every write up to here has completed. */
  written: number;
  /** Direct writes refused by the file system at a write: the page cache is used from then on. */
  refused = false;
  private readonly handle: FileHandle;
  private direct: FileHandle | null;
  private readonly memory: Buffer;
  private readonly slots: Buffer[];
  private readonly slotUsers: number[];
  private cur = 0;
  /** File offset of the current slot's first byte (a multiple of DIRECT_BLOCK). */
  private base: number;
  /** Bytes staged in the current slot. */
  private fill: number;
  /** Direct writes are issued up to here (a block boundary in the current slot). */
  private issued: number;
  /** A write of the staged tail has been issued up to here. */
  private tailTo: number;
  private readonly queue: Issued[] = [];
  private inflight = 0;
  private appends = 0;
  private idleScheduled = false;
  private closed = false;
  private error: unknown = null;
  private wake: (() => void)[] = [];
  /** Writes issued (NODE_DEBUG=snapstream prints them at the close): direct, of tails, on idle input. */
  private readonly counts = { direct: 0, tails: 0, idle: 0 };
  private readonly file: string;
  private readonly events: DirectWriterEvents;

  private constructor(file: string, handle: FileHandle, direct: FileHandle, memory: Buffer, at: number, events: DirectWriterEvents) {
    this.handle = handle;
    this.direct = direct;
    this.memory = memory;
    this.slots = Array.from({ length: SLOTS }, (_, i) => memory.subarray(i * DIRECT_SLOT, (i + 1) * DIRECT_SLOT));
    this.slotUsers = this.slots.map(() => 0);
    this.written = at;
    this.fill = at % DIRECT_BLOCK;
    this.base = at - this.fill;
    this.issued = this.base;
    this.tailTo = at;
    this.events = events;
    this.file = file;
  }

  /**
   * A writer appending at `at` to `file`, already open as `handle` (for reading the block `at`
   * falls in, and for the tail writes), or null where O_DIRECT cannot be used: then write through
   * `handle` as usual. The direct descriptor is opened by path (no symbolic link followed) and
   * used only if it is the very file `handle` has open.
   */
  static async open(file: string, handle: FileHandle, at: number, events: DirectWriterEvents): Promise<DirectWriter | null> {
    const O_DIRECT = fs.constants.O_DIRECT;
    if (!O_DIRECT) return null;
    const memory = allocAligned(SLOTS * DIRECT_SLOT);
    if (!memory) {
      debug('no aligned memory for O_DIRECT writes to %s: writing through the page cache', file);
      return null;
    }
    let direct: FileHandle | null = null;
    try {
      direct = await fsp.open(file, fs.constants.O_WRONLY | O_DIRECT | (fs.constants.O_NOFOLLOW ?? 0));
      const [a, b] = await Promise.all([handle.stat({ bigint: true }), direct.stat({ bigint: true })]);
      if (a.ino !== b.ino || a.dev !== b.dev) throw Object.assign(new Error('another file is at the path now'), { code: 'ESTALE' });
    } catch (err) {
      await direct?.close().catch(() => {});
      freeAligned(memory);
      debug('O_DIRECT refused for %s (%s): writing through the page cache', file, (err as NodeJS.ErrnoException).code ?? err);
      return null;
    }
    const writer = new DirectWriter(file, handle, direct, memory, at, events);
    // The start of the block `at` falls in: the first direct write rewrites that block whole.
    if (writer.fill > 0) {
      try {
        const got = await readFully(handle, writer.slots[0]!.subarray(0, writer.fill), writer.base);
        if (got !== writer.fill) throw Object.assign(new Error(`${file} is shorter than the ${at} bytes to append after`), { code: 'EIO' });
      } catch (err) {
        await writer.close(false);
        throw err;
      }
    }
    return writer;
  }

  /** Bytes appended: in the file or staged. */
  get appended(): number {
    return this.base + this.fill;
  }

  /**
   * Copies `chunk` into staging (the caller's memory is free again once this resolves), starting
   * the direct write of each slot it fills. Waits only for a slot still being written.
   */
  async append(chunk: Buffer): Promise<void> {
    this.check();
    this.appends++;
    let at = 0;
    while (at < chunk.length) {
      if (this.fill === DIRECT_SLOT) await this.nextSlot();
      const n = Math.min(DIRECT_SLOT - this.fill, chunk.length - at);
      chunk.copy(this.slots[this.cur]!, this.fill, at, at + n);
      this.fill += n;
      at += n;
      if (this.fill === DIRECT_SLOT) this.issueBlocks(this.appended);
    }
    this.scheduleIdle();
  }

  /** Writes everything staged (whole blocks direct, the tail through the page cache); resolves once the file holds all of it. */
  async flush(): Promise<void> {
    this.check();
    this.issueStaged();
    while (this.written < this.appended || this.inflight > 0) {
      await new Promise<void>((resolve) => this.wake.push(resolve));
      this.check();
    }
  }

  /**
   * Waits for the writes in flight and closes the direct descriptor (not `handle`). With
   * `flush`, what is staged is written first, as far as it can be (errors are left to the
   * caller's next write): bytes taken are not lost to a destroy.
   */
  async close(flush = true): Promise<void> {
    if (this.closed) return;
    if (flush && this.error === null) this.issueStaged();
    this.closed = true;
    while (this.inflight > 0) await new Promise<void>((resolve) => this.wake.push(resolve));
    await this.direct?.close().catch(() => {});
    this.direct = null;
    freeAligned(this.memory);
    debug('%s: %d direct writes, %d tails through the page cache, %d writes on idle input%s', this.file, this.counts.direct, this.counts.tails, this.counts.idle, this.refused ? ' (O_DIRECT refused at a write)' : '');
  }

  private check(): void {
    if (this.error !== null) throw this.error;
    if (this.closed) throw Object.assign(new Error('the file is closed'), { code: 'ERR_STREAM_DESTROYED' });
  }

  /** Moves on to the next slot, once the write reading it (from the last round) is done. */
  private async nextSlot(): Promise<void> {
    this.cur = (this.cur + 1) % SLOTS;
    this.base += DIRECT_SLOT;
    this.fill = 0;
    this.issued = this.base;
    while (this.slotUsers[this.cur]! > 0) {
      await new Promise<void>((resolve) => this.wake.push(resolve));
      this.check();
    }
  }

  /** Issues the staged whole blocks and the tail after them. */
  private issueStaged(): void {
    const whole = this.appended - (this.fill % DIRECT_BLOCK);
    if (this.issued < whole) this.issueBlocks(whole);
    if (this.tailTo < this.appended) this.issueTail();
  }

  /** Direct write of the current slot's blocks from `issued` up to `to` (a block boundary). */
  private issueBlocks(to: number): void {
    this.issue(this.issued, to, true);
    this.issued = to;
    this.tailTo = Math.max(this.tailTo, to);
  }

  /** Page-cache write of the current slot's bytes past its last whole block. */
  private issueTail(): void {
    const from = this.appended - (this.fill % DIRECT_BLOCK);
    this.issue(Math.max(from, this.tailTo), this.appended, false);
    this.tailTo = this.appended;
  }

  private issue(from: number, to: number, direct: boolean): void {
    if (direct) this.counts.direct++;
    else this.counts.tails++;
    const slot = this.cur;
    const bytes = this.slots[slot]!.subarray(from - this.base, to - this.base);
    const entry: Issued = { end: to, done: false };
    this.queue.push(entry);
    this.inflight++;
    this.slotUsers[slot]!++;
    this.writeOut(bytes, from, direct).then(
      () => {
        entry.done = true;
      },
      (err: unknown) => {
        this.error ??= err;
      },
    ).finally(() => {
      this.inflight--;
      this.slotUsers[slot]!--;
      this.settled();
    });
  }

  /** Writes `bytes` at `position`, direct when it can; a short or refused direct write carries on through the page cache. */
  private async writeOut(bytes: Buffer, position: number, direct: boolean): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const left = bytes.length - done;
      const useDirect = direct && !this.refused && this.direct !== null && (position + done) % DIRECT_BLOCK === 0 && left % DIRECT_BLOCK === 0;
      let n: number;
      try {
        ({ bytesWritten: n } = await (useDirect ? this.direct! : this.handle).write(bytes, done, left, position + done));
      } catch (err) {
        if (useDirect && REFUSED.has((err as NodeJS.ErrnoException).code ?? '')) {
          if (!this.refused) debug('an O_DIRECT write was refused (%s): writing through the page cache', (err as NodeJS.ErrnoException).code);
          this.refused = true;
          continue;
        }
        throw err;
      }
      if (n === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
      done += n;
    }
  }

  /** A write completed (or failed): moves `written` over the writes completed in order, and wakes whoever waits. */
  private settled(): void {
    let moved = false;
    while (this.queue.length > 0 && this.queue[0]!.done) {
      this.written = Math.max(this.written, this.queue.shift()!.end);
      moved = true;
    }
    const wake = this.wake;
    this.wake = [];
    for (const w of wake) w();
    if (this.error !== null) {
      this.events.failed(this.error);
      return;
    }
    if (moved) this.events.written(this.written);
    this.scheduleIdle();
  }

  /**
   * With no write in flight and bytes staged: if nothing is appended in the next turn of the
   * event loop, the staged whole blocks are written; the tail, after them, once still idle.
   */
  private scheduleIdle(): void {
    if (this.idleScheduled || this.closed || this.inflight > 0 || this.tailTo >= this.appended) return;
    this.idleScheduled = true;
    const seen = this.appends;
    setImmediate(() => {
      this.idleScheduled = false;
      if (this.closed || this.error !== null || this.inflight > 0 || this.tailTo >= this.appended) return;
      if (this.appends !== seen) return this.scheduleIdle();
      this.counts.idle++;
      const whole = this.appended - (this.fill % DIRECT_BLOCK);
      if (this.issued < whole) this.issueBlocks(whole);
      else this.issueTail();
    });
  }
}
