/**
 * EntryDecoder: bytes → entries. Records may be cut anywhere across input chunks. Emits one
 * `{ key, value, expiresAt? }` object per entry, or with `batch: true` one array per input
 * chunk of at most 128 entries (far fewer stream operations for millions of small
 * entries). Backpressure holds inside a chunk too: a block of millions of records is decoded
 * only as fast as its entries are read, a slice of a few milliseconds at a time.
 *
 * With `blocks: true` the writable side takes `{ data }` objects (whole blocks, as a block-mode
 * Decompressor emits them) instead of bytes.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { DecodedEntry } from '../format/entry.js';
import { ColumnBuilder } from '../format/entry-columns.js';
import { EntryParser, type EntryParserOptions } from '../format/entry-parser.js';
import { leasesOf, type Leases } from '../format/leases.js';
import { FormatError } from '../errors.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Options of {@link EntryDecoder} (and {@link createEntryDecoder}). */
export interface EntryDecoderOptions extends StageOptions, EntryParserOptions {
  /**
   * `true`: emit arrays of entries (one per input chunk, at most 128 each) instead of single
   * entries. `'columns'`: emit {@link EntryColumns} batches (at most 4,096 entries or 1 MiB of
   * records each, never across input chunks): one object per batch holding the records' bytes
   * and offsets, with no object or Buffer per entry until one is asked for.
   */
  batch?: boolean | 'columns';
  /** Take `{ data: Buffer }` blocks of whole records instead of bytes. */
  blocks?: boolean;
}

/** A block of whole records, as a block-mode Decompressor emits it. */
interface DecoderBlock {
  data: Buffer;
  /** Entries the block's header says it holds (checked when given). */
  entries?: number;
  seq?: number;
}

/**
 * Most entries in one array with `batch: true`. Entries decoded and not yet handed out live
 * through V8's young-generation collections, and what survives them is what makes V8 enlarge
 * its young generation (to 64 MiB on Node 24, 32 on Node 20): 2,048 entries in arrays of which 4
 * were held grew it to the maximum in a read of 1.2 M small entries, 128 in 1 array mostly did
 * not, at no cost in CPU time (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
export const MAX_BATCH = 128;
/** Arrays held on the readable side in batch mode (and while a `for await` loop reads single entries). */
const BATCH_HIGH_WATER_MARK = 1;
/** Decoding yields to the event loop after this many milliseconds of work. */
const SLICE_MS = 10;
/** Records decoded between two looks at the clock and the readable side. */
const SLICE_RECORDS = 256;

interface Work {
  data: Buffer;
  /** Where decoding goes on in `data`. */
  at: number;
  block: DecoderBlock | null;
  /** `parser.entries` when the chunk began. */
  before: number;
  callback: TransformCallback;
  /** The batch being filled (`batch: true`). */
  out: DecodedEntry[];
  /** Stopped on a full readable side, waiting for `_read`. */
  paused: boolean;
  /** `data` is this decoder's to give away (`batch: 'columns'`: a block lent to it, taken over). */
  owned: boolean;
}

/**
 * Bytes (or whole blocks with `blocks: true`) → entries: one `{ key, value, expiresAt? }` object
 * per entry, or with `batch: true` one array per input chunk (at most 128 entries
 * each). Entries are decoded only as fast as they are read, even inside one chunk. Made by {@link createEntryDecoder}.
 */
export class EntryDecoder extends Transform {
  private readonly parser: EntryParser;
  /** Entries go out in arrays: `batch: true`, or a `for await` loop reading one entry at a time (see the iterator). */
  private batch: boolean;
  /** `batch` given: the consumer gets the arrays (or column batches) themselves. */
  private readonly batchOption: boolean;
  /** `batch: 'columns'`: the batch of columns being gathered. */
  private readonly columns: ColumnBuilder | null;
  private readonly blockMode: boolean;
  private readonly copy: boolean;
  /** readSnapshot's pipeline: blocks lent along it go back to the pool once copied out of. */
  private readonly leases: Leases | null;
  /** The chunk being decoded; its write completes once it is used up. */
  private work: Work | null = null;
  private pumping = false;
  /** A `_read` came that could not be answered at once (see `pump`). */
  private readWanted = false;
  /** When the current slice of synchronous work ends (`performance.now()`); -1: none open. */
  private sliceEnd = -1;
  /** Work stopped because the slice ran out (not for a full readable side). */
  private overtime = false;

  constructor(options: EntryDecoderOptions = {}) {
    super({
      ...nodeStreamOptions(options),
      writableObjectMode: options.blocks === true,
      readableObjectMode: true,
      ...(options.highWaterMark === undefined ? { readableHighWaterMark: options.batch === true || options.batch === 'columns' ? BATCH_HIGH_WATER_MARK : 1024 } : {}),
      // Whole blocks (up to 64 MiB each) queue on the writable side: two, as in the other block-mode stages.
      ...(options.blocks === true && options.highWaterMark === undefined ? { writableHighWaterMark: 2 } : {}),
    });
    this.parser = new EntryParser(options);
    this.copy = options.copy === true;
    this.leases = leasesOf(options);
    this.batch = options.batch === true;
    this.columns = options.batch === 'columns' ? new ColumnBuilder(this.copy) : null;
    this.batchOption = this.batch || this.columns !== null;
    this.blockMode = options.blocks === true;
  }

  /** Entries decoded so far, expired ones included. */
  get entries(): number {
    return this.parser.entries;
  }

  /** Entries skipped because they had expired. */
  get expired(): number {
    return this.parser.expired;
  }

  override _transform(chunk: Buffer | DecoderBlock, _encoding: BufferEncoding, callback: TransformCallback): void {
    const block = this.blockMode ? (chunk as DecoderBlock) : null;
    // Columns hold their block's bytes: one lent along readSnapshot's pipeline leaves the pool
    // and goes to the consumer with its batches, instead of being copied into fresh memory.
    const owned = block !== null && this.columns !== null && this.copy && this.leases?.takeOver(block.data) === true;
    this.work = { data: block ? block.data : (chunk as Buffer), at: 0, block, before: this.parser.entries, callback, out: [], paused: false, owned };
    this.pump();
  }

  /**
   * Decodes the current chunk in slices: it stops when the readable side is full (`_read`
   * resumes it) and yields to the event loop after {@link SLICE_MS} of work (a 64 MiB block
   * holds up to 7.4 M records; decoding them at once blocked the loop for seconds, and a batch
   * of them took gigabytes).
   */
  private pump(): void {
    this.pumpSlice();
    // A `_read` is answered by a push. One that found the chunk ending with no entry left to
    // push (the rest of a record is in the next chunk) must let the next chunk's write go on
    // itself: Node asks again only after a push, and that write may be held for this read.
    if (this.readWanted && !this.pumping) {
      if (!this.work) {
        this.readWanted = false;
        Transform.prototype._read.call(this, 0);
      } else if (this.work.paused) {
        this.readWanted = false; // paused on a push: the read was answered
      }
    }
  }

  private pumpSlice(): void {
    const w = this.work;
    if (!w || this.pumping || this.destroyed) return;
    this.pumping = true;
    w.paused = false;
    // A slice lasts until the event loop turns: a consumer reading through promises (for await)
    // calls back in microtasks, which must not stretch one slice over a whole block.
    if (this.sliceEnd < 0) {
      this.sliceEnd = performance.now() + SLICE_MS;
      setImmediate(this.endSlice);
    }
    let done = false;
    try {
      for (;;) {
        if (performance.now() >= this.sliceEnd) {
          // A partial batch goes out now rather than after the rest of the block.
          if (this.columns !== null ? this.columns.count > 0 && !this.pushColumns() : this.batch && w.out.length > 0 && !this.pushBatch(w)) w.paused = true;
          else this.overtime = true; // `endSlice` goes on
          return;
        }
        let room = true;
        const columns = this.columns;
        if (columns !== null) {
          w.at = this.parser.collect(w.data, columns, w.at, SLICE_RECORDS, w.owned);
          // Full, or holding a record gathered across chunks while this chunk's records come next.
          if (columns.full || (columns.count > 0 && columns.source !== w.data && w.at < w.data.length)) room = this.pushColumns();
        } else if (this.batch) {
          const out = w.out;
          w.at = this.parser.write(w.data, (e) => out.push(e) < MAX_BATCH, w.at, SLICE_RECORDS);
          if (out.length >= MAX_BATCH) room = this.pushBatch(w);
        } else {
          w.at = this.parser.write(w.data, (e) => (room = this.push(e)), w.at, SLICE_RECORDS);
        }
        this.checkCount(w);
        if (w.at >= w.data.length) {
          this.finish(w);
          done = true;
          break;
        }
        if (this.destroyed) return;
        if (!room) {
          w.paused = true; // `_read` goes on
          return;
        }
      }
    } catch (err) {
      this.work = null;
      w.callback(err as Error);
    } finally {
      this.pumping = false;
    }
    if (done) w.callback();
  }

  /** The event loop turned: a new slice may start, and work stopped for time goes on. */
  private readonly endSlice = (): void => {
    this.sliceEnd = -1;
    if (this.overtime) {
      this.overtime = false;
      this.pump();
    }
  };

  private pushColumns(): boolean {
    return this.push(this.columns!.close());
  }

  private pushBatch(w: Work): boolean {
    const out = w.out;
    w.out = [];
    return this.push(out);
  }

  /** A block yielding more entries than its header says is refused as soon as it does. */
  private checkCount(w: Work): void {
    const block = w.block;
    if (!block || typeof block.entries !== 'number') return;
    const found = this.parser.entries - w.before;
    if (found > block.entries || (w.at >= w.data.length && found !== block.entries)) {
      throw new FormatError(`block ${String(block.seq ?? '')} holds ${found > block.entries ? 'more than ' : ''}${found} entries, its header says ${block.entries}`, {
        ...(typeof block.seq === 'number' ? { seq: block.seq } : {}),
        expected: block.entries,
        actual: found,
      });
    }
  }

  private finish(w: Work): void {
    const block = w.block;
    if (block) this.parser.end();
    if (this.columns !== null) {
      // Copied out (or a view) before the block goes back to the pool below.
      if (this.columns.count > 0) this.pushColumns();
    } else if (this.batch && w.out.length > 0) this.pushBatch(w);
    this.work = null;
    // Nothing refers to the block any more when every key and value was copied out of it.
    if (block && this.copy) this.leases?.giveBack(block.data);
    this.emit('progress', { bytes: this.parser.offset, entries: this.parser.entries });
  }

  /**
   * `for await (const entry of decoder)`: entries one at a time, as the stream emits them, but
   * pulled from the readable side an array at a time. Node's iterator over an object-mode
   * Readable costs ≈ 1 µs per item (a promise, a `read()`, a `readable` event); handing out the
   * entries of an array costs a tenth of that. From the first call on, the decoder pushes arrays
   * (at most 128 entries, 1 batch held), which only
   * this iterator sees: the loop owns the stream as Node's own iterator does (leaving the loop
   * destroys the stream, an error ends it after the entries before it). Entries pushed before the
   * loop began come out first, in order. With `batch: true` the arrays themselves are yielded.
   */
  override [Symbol.asyncIterator](): AsyncIterableIterator<any> {
    const chunks = super[Symbol.asyncIterator]() as AsyncIterableIterator<DecodedEntry | DecodedEntry[]>;
    if (this.batchOption) return chunks;
    this.batch = true;
    // Arrays are held by count like entries were: without this, Node would read ahead up to 1,024 arrays.
    (this as unknown as { _readableState: { highWaterMark: number } })._readableState.highWaterMark = BATCH_HIGH_WATER_MARK;
    return new FlatteningIterator(chunks);
  }

  override _read(size: number): void {
    // The consumer wants more: go on with a chunk paused on a full readable side.
    if (this.work?.paused && !this.pumping) {
      this.readWanted = true;
      this.pump();
    } else if (!this.work && !this.pumping) super._read(size);
    else this.readWanted = true;
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.parser.end();
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.work = null;
    callback(err);
  }
}

/** Yields the entries of the arrays (and any single entries) that `source` yields. */
class FlatteningIterator implements AsyncIterableIterator<DecodedEntry> {
  private batch: DecodedEntry[] = [];
  private next_ = 0;
  /** A pull from `source` under way: calls made meanwhile wait for it, in order. */
  private pulling: Promise<unknown> | null = null;

  constructor(private readonly source: AsyncIterableIterator<DecodedEntry | DecodedEntry[]>) {}

  next(): Promise<IteratorResult<DecodedEntry>> {
    if (this.pulling) return this.queued(() => this.next());
    if (this.next_ < this.batch.length) return Promise.resolve({ value: this.batch[this.next_++]!, done: false });
    const pull = this.pull();
    this.pulling = pull;
    const clear = (): void => {
      if (this.pulling === pull) this.pulling = null;
    };
    pull.then(clear, clear);
    return pull;
  }

  private async pull(): Promise<IteratorResult<DecodedEntry>> {
    this.batch = [];
    this.next_ = 0;
    for (;;) {
      const r = await this.source.next();
      if (r.done === true) return { value: undefined, done: true };
      if (!Array.isArray(r.value)) return { value: r.value, done: false };
      if (r.value.length === 0) continue;
      this.batch = r.value;
      this.next_ = 1;
      return { value: r.value[0]!, done: false };
    }
  }

  return(value?: unknown): Promise<IteratorResult<DecodedEntry>> {
    return this.queued(() => {
      this.batch = [];
      return this.source.return!(value) as Promise<IteratorResult<DecodedEntry>>;
    });
  }

  throw(err?: unknown): Promise<IteratorResult<DecodedEntry>> {
    return this.queued(() => {
      this.batch = [];
      return this.source.throw!(err) as Promise<IteratorResult<DecodedEntry>>;
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private queued<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.pulling;
    if (!before) return fn();
    const settled = (): Promise<T> => fn();
    return before.then(settled, settled);
  }
}

/** Creates an {@link EntryDecoder}. */
export function createEntryDecoder(options?: EntryDecoderOptions): EntryDecoder {
  return new EntryDecoder(options);
}
