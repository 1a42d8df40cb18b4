/**
 * EntrySource: pulls entries from an iterable and emits them encoded, as RawBlocks.
 *
 * The fast path of snapshot creation: entries are read straight from the iterator into the
 * block buffer, with no stream write (and, for synchronous iterables, no promise) per entry.
 * Items may be entries or arrays of entries (batches, as database iterators give them).
 *
 * Reading and encoding run on the main thread, beside the application: they go in slices of a
 * few ms with a turn of the event loop between them (see pacer.ts), so a snapshot never holds
 * the event loop for longer than a slice, and can be held to a share of it (`pace.share`).
 */
import { Readable } from 'node:stream';
import { checkBlockSize, DEFAULT_BLOCK_SIZE } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { RawBlock } from '../format/block.js';
import type { Entry } from '../format/entry.js';
import type { BlockBoundaries } from '../format/content-boundaries.js';
import { EntryBlockWriter } from '../format/entry-record.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { ownTimeOf } from '../streams/own-time.js';
import { nodeStreamOptions, type StageOptions } from '../streams/stage-options.js';
import { CHECK_EVERY, Pacer, type PaceOptions } from './pacer.js';

/** Entries, or batches of entries, from a sync or async iterable (a generator, an array, a database iterator). */
export type EntryIterable = Iterable<Entry | Entry[]> | AsyncIterable<Entry | Entry[]>;

/** Options of {@link EntrySource}. */
export interface EntrySourceOptions extends StageOptions {
  /**
   * Raw bytes per block; a block never splits a record. Default 1 MiB. With content boundaries
   * the size blocks average about; they range from half to twice it (at most 64 MiB).
   */
  blockSize?: number;
  /**
   * `'content'`: blocks end where the entries' keys say (docs/FORMAT.md 3.10), so snapshots of
   * similar state share most blocks; the framer's `blockSize` must then be
   * `contentBlockLimits(blockSize).max`. `'fixed'` (default here): every block filled to `blockSize`.
   */
  boundaries?: BlockBoundaries;
  /** The cursor after an entry (see EntryEncoderOptions.cursorOf). Default: entries so far. */
  cursorOf?: (entry: Entry, count: number) => unknown;
  /** Entries already written before this source (resuming): counts continue from here. */
  startCount?: number;
  /**
   * How reading and encoding share the main thread with the application. Default: slices of
   * at most 4 ms with a turn of the event loop between them, no share limit.
   */
  pace?: PaceOptions;
  /**
   * Called when the pacer finds the application keeping the event loop busy (true) or leaving
   * it idle (false), judged by the turns it yields: writeSnapshot lets the compressor use fewer
   * cores while the application is busy.
   */
  onBusy?: (busy: boolean) => void;
}

type AnyIterator = Iterator<Entry | Entry[]> | AsyncIterator<Entry | Entry[]>;

/**
 * Entries from an iterable → {@link RawBlock}s of encoded records (object mode): the fast path
 * of snapshot creation, with no stream write per entry.
 */
export class EntrySource extends Readable {
  private readonly entriesIt: AnyIterator;
  private readonly writer: EntryBlockWriter;
  private readonly cursorOf: (entry: Entry, count: number) => unknown;
  private readonly startCount: number;
  private readonly leases: Leases | null;
  private readonly pacer: Pacer;
  /** Entries since the pacer last looked at the clock. */
  private sinceCheck = 0;
  private last: Entry | null = null;
  private pumping = false;
  private readWanted = false;
  private ended = false;

  constructor(source: EntryIterable, options: EntrySourceOptions = {}) {
    super({ ...nodeStreamOptions(options), objectMode: true, highWaterMark: options.highWaterMark ?? 2 });
    const asyncIt = (source as AsyncIterable<Entry>)?.[Symbol.asyncIterator];
    const syncIt = (source as Iterable<Entry>)?.[Symbol.iterator];
    if (typeof asyncIt === 'function') this.entriesIt = asyncIt.call(source) as AnyIterator;
    else if (typeof syncIt === 'function') this.entriesIt = syncIt.call(source) as AnyIterator;
    else throw new InvalidArgumentError('the entry source must be an iterable or async iterable');
    // writeSnapshot's pipeline: blocks in shared memory (a SharedArrayBuffer) that its
    // Compressor's worker threads use in place, lent to it alone. Never for blocks anyone else
    // receives: they may keep them, and Web APIs (fetch, crypto.subtle) refuse shared views.
    this.leases = leasesOf(options);
    this.writer = new EntryBlockWriter(checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE), this.leases !== null, options.boundaries ?? 'fixed');
    this.cursorOf = options.cursorOf ?? ((_entry, count) => count);
    this.startCount = options.startCount ?? 0;
    this.pacer = new Pacer(options.pace);
    if (options.onBusy) this.pacer.onBusy = options.onBusy;
    // A recipe's pipeline: the time its other stages take in a turn is not the application's.
    const own = ownTimeOf(options);
    if (own) this.pacer.ownMs = () => own.ms;
  }

  /** Turns of the event loop given to the application so far (pacing). */
  get yields(): number {
    return this.pacer.yields;
  }

  /** Entries read from the source so far (not counting `startCount`). */
  get entries(): number {
    return this.writer.total;
  }

  override _read(): void {
    // A read asked for while a pump is finishing must not be lost: the pump loops again.
    this.readWanted = true;
    if (this.pumping || this.ended) return;
    this.pumping = true;
    const run = (): void => {
      this.readWanted = false;
      this.pump().then(
        () => (this.readWanted && !this.ended && !this.destroyed ? run() : (this.pumping = false)),
        (err: unknown) => this.destroy(err as Error),
      );
    };
    run();
  }

  /** Reads entries until one block has been pushed and the consumer wants no more, or the end. */
  private async pump(): Promise<void> {
    const it = this.entriesIt;
    for (;;) {
      if (this.sinceCheck >= CHECK_EVERY) {
        this.sinceCheck = 0;
        if (this.pacer.due()) {
          await this.pacer.yield();
          if (this.destroyed) return;
        }
      }
      let step = it.next();
      if (step instanceof Promise) step = await step;
      if (this.destroyed) return;
      if (step.done) {
        this.ended = true;
        if (this.writer.count > 0) this.pushBlock();
        this.push(null);
        return;
      }
      const item = step.value;
      let wantMore = true;
      if (Array.isArray(item)) {
        for (const entry of item) wantMore = this.add(entry) && wantMore;
        this.sinceCheck += item.length;
      } else {
        wantMore = this.add(item);
        this.sinceCheck++;
      }
      if (!wantMore) return;
    }
  }

  /** Adds an entry; false once a block was pushed and the consumer asked for no more. */
  private add(entry: Entry): boolean {
    let wantMore = true;
    const writer = this.writer;
    if (!writer.append(entry)) {
      wantMore = this.pushBlock();
      writer.append(entry);
    }
    this.last = entry;
    // A content boundary after this entry.
    if (writer.boundary) wantMore = this.pushBlock() && wantMore;
    return wantMore;
  }

  private pushBlock(): boolean {
    const entries = this.writer.count;
    const data = this.writer.take();
    this.leases?.lend(data);
    const block: RawBlock = { data, entries, cursor: this.cursorOf(this.last!, this.startCount + this.writer.total) };
    // A block's worth of work since the last look at the clock, whatever the entries' sizes: look now.
    this.sinceCheck = CHECK_EVERY;
    return this.push(block);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // Let the source release what it holds (a database iterator, a file).
    const ret = this.ended ? undefined : this.entriesIt.return?.();
    if (ret instanceof Promise) ret.then(() => callback(err), () => callback(err));
    else callback(err);
  }
}
