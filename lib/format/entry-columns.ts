/**
 * Entries in columns: the batch form of `batch: 'columns'` (EntryDecoder, readSnapshot). One
 * object per batch holds one Buffer with the batch's records and, in typed arrays, where each
 * entry's key and value lie in it: no object per entry, no Buffer per key and value unless the
 * consumer asks for one. Per entry that leaves the record's offsets (13 bytes, 21 with expiries);
 * the entry objects and the two Buffer views per entry were most of what reading small entries
 * cost the main thread (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
import { bufferView } from './buffer-view.js';
import type { DecodedEntry } from './entry.js';
import { FLAG_KEY_TEXT, FLAG_VALUE_TEXT } from './entry-record.js';

/**
 * A batch of entries in columns, as `readSnapshot(f, { batch: 'columns' })` and an EntryDecoder
 * with `batch: 'columns'` emit them. Everything in it is its consumer's, as an entry is, never
 * changed or reused afterwards: `data` is a copy of the input (unless `copy: false`), or in
 * readSnapshot a view of the decompressed block itself, which then leaves the reader's pool for
 * good. A key or value view kept keeps all of `data`'s memory (up to a block) alive.
 *
 * ```ts
 * for await (const batch of readSnapshot(file, { batch: 'columns' })) {
 *   for (let i = 0; i < batch.length; i++) map.set(batch.keyText(i), batch.value(i));
 * }
 * ```
 */
export interface EntryColumns extends Iterable<DecodedEntry> {
  /** Entries in this batch. */
  readonly length: number;
  /** The bytes every key and value of the batch lies in. */
  readonly data: Buffer;
  /**
   * Where entry `i` lies in `data`: its key is `data[offsets[3i], offsets[3i+1])`, its value
   * `data[offsets[3i+1], offsets[3i+2])`.
   */
  readonly offsets: Uint32Array;
  /** Entry `i`'s record flags: bit 0 it has an expiry, bit 1 its key is text, bit 2 its value is text (docs/FORMAT.md). */
  readonly flags: Uint8Array;
  /** Entry `i`'s `expiresAt` (NaN for none); null when no entry of the batch has one. */
  readonly expiry: Float64Array | null;
  /** Entry `i`'s key as {@link DecodedEntry} has it: a string if it was written as one, else a Buffer (a view of `data`). */
  key(i: number): Buffer | string;
  /** Entry `i`'s value: a string if it was written as one, else a Buffer (a view of `data`). */
  value(i: number): Buffer | string;
  /** Entry `i`'s key decoded as UTF-8 text, whatever it was written as. */
  keyText(i: number): string;
  /** Entry `i`'s expiry in milliseconds since the epoch, or undefined. */
  expiresAt(i: number): number | undefined;
  /** Entry `i` as the object a single-entry read gives. */
  entry(i: number): DecodedEntry;
}

/** The one class of {@link EntryColumns}; made by the entry parser only. */
export class ColumnBatch implements EntryColumns {
  /** `data.buffer` and `data.byteOffset`, read once (buffer-view.ts). */
  private readonly memory: ArrayBufferLike;
  private readonly base: number;

  constructor(
    readonly data: Buffer,
    readonly length: number,
    readonly offsets: Uint32Array,
    readonly flags: Uint8Array,
    readonly expiry: Float64Array | null,
  ) {
    this.memory = data.buffer;
    this.base = data.byteOffset;
  }

  key(i: number): Buffer | string {
    const o = this.offsets;
    const start = o[3 * i]!;
    const end = o[3 * i + 1]!;
    if (this.flags[i]! & FLAG_KEY_TEXT) return this.data.toString('utf8', start, end);
    return bufferView(this.data, this.memory, this.base, start, end);
  }

  value(i: number): Buffer | string {
    const o = this.offsets;
    const start = o[3 * i + 1]!;
    const end = o[3 * i + 2]!;
    if (this.flags[i]! & FLAG_VALUE_TEXT) return this.data.toString('utf8', start, end);
    return bufferView(this.data, this.memory, this.base, start, end);
  }

  keyText(i: number): string {
    return this.data.toString('utf8', this.offsets[3 * i]!, this.offsets[3 * i + 1]!);
  }

  expiresAt(i: number): number | undefined {
    const at = this.expiry === null ? NaN : this.expiry[i]!;
    return Number.isNaN(at) ? undefined : at;
  }

  entry(i: number): DecodedEntry {
    const expiresAt = this.expiresAt(i);
    const key = this.key(i);
    const value = this.value(i);
    return expiresAt === undefined ? { key, value } : { key, value, expiresAt };
  }

  *[Symbol.iterator](): Iterator<DecodedEntry> {
    for (let i = 0; i < this.length; i++) yield this.entry(i);
  }
}

/** Most entries in one batch of columns. */
export const MAX_COLUMN_ENTRIES = 4096;
/** A batch of columns closes once its records span this many bytes. */
export const MAX_COLUMN_BYTES = 1024 * 1024;

/**
 * Gathers the records of one input buffer into a {@link ColumnBatch}. The parser adds records
 * (their offsets in `source`); {@link close} makes the batch, copying the records' bytes once
 * when `copy` is set.
 */
export class ColumnBuilder {
  /** The buffer the records added so far lie in; null while empty. */
  source: Buffer | null = null;
  /** The source is the parser's own gathered record: no copy needed. */
  private sourceOwned = false;
  /** Where the first record added starts in `source`. */
  private start = 0;
  /** Where the last record added ends in `source`. */
  private end = 0;
  count = 0;
  private offsets = new Uint32Array(3 * MAX_COLUMN_ENTRIES);
  private flags = new Uint8Array(MAX_COLUMN_ENTRIES);
  private expiry: Float64Array | null = null;
  /** An entry of the batch being gathered has an expiry. */
  private hasExpiry = false;

  constructor(private readonly copy: boolean) {}

  /** True when the batch can take no more. */
  get full(): boolean {
    return this.count >= MAX_COLUMN_ENTRIES || this.end - this.start >= MAX_COLUMN_BYTES;
  }

  /**
   * Adds the record at `[recordStart, valueEnd)` of `source`. The caller closes the batch first
   * when `source` is another buffer than the records before ({@link source}).
   */
  add(source: Buffer, owned: boolean, recordStart: number, flags: number, keyStart: number, keyEnd: number, valueEnd: number, expiresAt: number): void {
    const n = this.count;
    if (n === 0) {
      this.source = source;
      this.sourceOwned = owned;
      this.start = recordStart;
    }
    const base = this.start;
    const o = this.offsets;
    o[3 * n] = keyStart - base;
    o[3 * n + 1] = keyEnd - base;
    o[3 * n + 2] = valueEnd - base;
    this.flags[n] = flags;
    if (!Number.isNaN(expiresAt)) {
      if (!this.hasExpiry) {
        this.hasExpiry = true;
        if (this.expiry === null) this.expiry = new Float64Array(MAX_COLUMN_ENTRIES);
        this.expiry.fill(NaN, 0, n);
      }
      this.expiry![n] = expiresAt;
    } else if (this.hasExpiry) this.expiry![n] = NaN;
    this.end = valueEnd;
    this.count = n + 1;
  }

  /** The batch of the records added (at least one), and an empty builder. */
  close(): ColumnBatch {
    const n = this.count;
    const source = this.source!;
    let data: Buffer;
    if (this.copy && !this.sourceOwned) {
      data = Buffer.allocUnsafeSlow(this.end - this.start);
      source.copy(data, 0, this.start, this.end);
    } else data = source.subarray(this.start, this.end);
    // The arrays go with the batch (the consumer's); a full one is handed over whole.
    const whole = n === MAX_COLUMN_ENTRIES;
    const offsets = whole ? this.offsets : this.offsets.slice(0, 3 * n);
    const flags = whole ? this.flags : this.flags.slice(0, n);
    const expiry = !this.hasExpiry ? null : whole ? this.expiry : this.expiry!.slice(0, n);
    if (whole) {
      this.offsets = new Uint32Array(3 * MAX_COLUMN_ENTRIES);
      this.flags = new Uint8Array(MAX_COLUMN_ENTRIES);
      if (this.hasExpiry) this.expiry = null;
    }
    this.hasExpiry = false;
    this.source = null;
    this.count = 0;
    this.start = 0;
    this.end = 0;
    return new ColumnBatch(data, n, offsets, flags, expiry);
  }
}
