/**
 * Parses entry records (see entry-record.ts) from byte chunks cut anywhere.
 *
 * Whole records inside a chunk are decoded in place (keys and values are views of the chunk
 * unless `copy` is set); a record split across chunks is gathered into a buffer of exactly its
 * size, which is allocated only after its lengths have passed `maxRecordSize`.
 */
import { FormatError, LimitError, TruncatedError } from '../errors.js';
import { readU64 } from './binary.js';
import { bufferView } from './buffer-view.js';
import type { DecodedEntry } from './entry.js';
import type { ColumnBuilder } from './entry-columns.js';
import { EXPIRY_BYTES, FLAG_EXPIRY, FLAG_KEY_TEXT, FLAG_VALUE_TEXT, FLAGS_KNOWN, RECORD_HEADER } from './entry-record.js';

/** With `copy`, keys and values up to half this size are views of copies of this much input. */
const SLAB = 8 * 1024;

/** Default and hard cap for one record's key plus value: 256 MiB. */
export const DEFAULT_MAX_RECORD_SIZE = 256 * 1024 * 1024;

export interface EntryParserOptions {
  /** Skip entries whose `expiresAt` is at or before `now`. Default false. */
  skipExpired?: boolean;
  /** The time expiry is judged against, in ms since the epoch. Default: `Date.now()` when created. */
  now?: number;
  /** Largest key + value accepted, in bytes; larger claims are refused before allocation. */
  maxRecordSize?: number;
  /** Copy keys and values out of the input instead of returning views of it. Default false. */
  copy?: boolean;
}

/** Receives each decoded entry; returning `false` stops the parse after this entry. */
export type EntrySink = (entry: DecodedEntry) => boolean | void;

export class EntryParser {
  private readonly skipExpired: boolean;
  private readonly now: number;
  private readonly maxRecordSize: number;
  private readonly copy: boolean;
  /** Bytes consumed so far: the stream offset of the next record. */
  offset = 0;
  /** Entries decoded (including skipped expired ones). */
  entries = 0;
  /** Entries skipped because they had expired. */
  expired = 0;
  /** `copy`: a copy of `slabSource[slabStart, slabEnd)` that small keys and values are views of. */
  private slab: Buffer | null = null;
  /** The slab's `buffer` and `byteOffset`, read once (buffer-view.ts). */
  private slabMemory: ArrayBufferLike | null = null;
  private slabBase = 0;
  private slabSource: Buffer | null = null;
  private slabStart = 0;
  private slabEnd = 0;
  /** Without `copy`: the input keys and values were last made views of, its `buffer` and `byteOffset`. */
  private viewSource: Buffer | null = null;
  private viewMemory: ArrayBufferLike | null = null;
  private viewBase = 0;
  private partial: Buffer | null = null;
  private partialLength = 0;
  private partialSize = 0; // 0 while the header is still incomplete

  constructor(options: EntryParserOptions = {}) {
    this.skipExpired = options.skipExpired ?? false;
    this.now = options.now ?? Date.now();
    this.maxRecordSize = Math.min(options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE, DEFAULT_MAX_RECORD_SIZE);
    this.copy = options.copy ?? false;
  }

  /** True when a record is half read. */
  get pending(): boolean {
    return this.partial !== null;
  }

  /**
   * Decodes the whole records of `chunk` from byte `at` (0: the start, where a record split at
   * the end of the previous chunk continues), keeping a record split at its end for the next
   * chunk. Stops early, after at most `budget` records (expired ones count) or once `emit`
   * returns false, so a caller can yield between pieces of a chunk holding millions of
   * records. Returns where it stopped: `chunk.length` once the chunk is used up; call again
   * from there otherwise.
   */
  write(chunk: Buffer, emit: EntrySink, at = 0, budget = Infinity): number {
    let left = budget;
    // A chunk starts: the same Buffer written again may hold other bytes now.
    if (at === 0) this.slabSource = null;
    if (at === 0 && this.partial) {
      const [next, record] = this.continuePartial(chunk);
      at = next;
      if (record !== null) {
        left--;
        if (!this.decodeRecord(record, 0, record[0]!, record.readUInt32LE(1), record.readUInt32LE(5), emit) || left <= 0) return at;
      }
    }
    const end = chunk.length;
    const max = this.maxRecordSize;
    while (at < end) {
      if (end - at < RECORD_HEADER) {
        this.startPartial(chunk, at, 0);
        return end;
      }
      // The header is read once here for both the size and the decoding.
      const flags = chunk[at]!;
      const keyLength = chunk.readUInt32LE(at + 1);
      const valueLength = chunk.readUInt32LE(at + 5);
      if ((flags & ~FLAGS_KNOWN) !== 0 || keyLength + valueLength > max) this.recordSize(chunk, at); // throws
      const size = RECORD_HEADER + (flags & FLAG_EXPIRY ? EXPIRY_BYTES : 0) + keyLength + valueLength;
      if (end - at < size) {
        this.startPartial(chunk, at, size);
        return end;
      }
      const go = this.decodeRecord(chunk, at, flags, keyLength, valueLength, emit);
      at += size;
      if (!go || --left <= 0) return at;
    }
    return end;
  }

  /**
   * {@link write} for `batch: 'columns'`: adds the whole records of `chunk` from byte `at` to
   * `columns` instead of making an entry of each (expired ones skipped as by `write`). Stops
   * once `columns` is full, after at most `budget` records, and after a record split across
   * chunks (gathered into a buffer of its own, so it makes a batch of its own): the caller
   * closes the batch when `columns` holds records of another buffer than the next one's, and
   * calls again from the returned offset. `columns` must be empty or hold records of `chunk`.
   * `owned`: `chunk` is the caller's to give away, so batches are views of it, not copies.
   */
  collect(chunk: Buffer, columns: ColumnBuilder, at = 0, budget = Infinity, owned = false): number {
    let left = budget;
    if (at === 0) this.slabSource = null;
    if (at === 0 && this.partial) {
      const [next, record] = this.continuePartial(chunk);
      if (record !== null) this.addRecord(columns, record, true, 0, record[0]!, record.readUInt32LE(1), record.readUInt32LE(5));
      return next;
    }
    if (columns.count > 0 && columns.source !== chunk) return at;
    const end = chunk.length;
    const max = this.maxRecordSize;
    while (at < end) {
      if (end - at < RECORD_HEADER) {
        this.startPartial(chunk, at, 0);
        return end;
      }
      const flags = chunk[at]!;
      const keyLength = chunk.readUInt32LE(at + 1);
      const valueLength = chunk.readUInt32LE(at + 5);
      if ((flags & ~FLAGS_KNOWN) !== 0 || keyLength + valueLength > max) this.recordSize(chunk, at); // throws
      const size = RECORD_HEADER + (flags & FLAG_EXPIRY ? EXPIRY_BYTES : 0) + keyLength + valueLength;
      if (end - at < size) {
        this.startPartial(chunk, at, size);
        return end;
      }
      this.addRecord(columns, chunk, owned, at, flags, keyLength, valueLength);
      at += size;
      if (columns.full || --left <= 0) return at;
    }
    return end;
  }

  /** Adds the record at `at` of `buf` to `columns`, unless it is skipped as expired. */
  private addRecord(columns: ColumnBuilder, buf: Buffer, owned: boolean, at: number, flags: number, keyLength: number, valueLength: number): void {
    let start = at + RECORD_HEADER;
    let expiresAt = NaN;
    if (flags & FLAG_EXPIRY) {
      expiresAt = readU64(buf, start);
      start += EXPIRY_BYTES;
    }
    const keyEnd = start + keyLength;
    const valueEnd = keyEnd + valueLength;
    this.offset += valueEnd - at;
    this.entries++;
    if (flags & FLAG_EXPIRY && this.skipExpired && expiresAt <= this.now) {
      this.expired++;
      return;
    }
    columns.add(buf, owned, at, flags, start, keyEnd, valueEnd, expiresAt);
  }

  /** Decodes a buffer that must hold whole records only (a snapshot block). */
  writeWhole(block: Buffer, emit: EntrySink): void {
    for (let at = 0; at < block.length; ) at = this.write(block, emit, at);
    this.end();
  }

  /** Call at end of input: a half-read record is a {@link TruncatedError}. */
  end(): void {
    if (this.partial) {
      throw new TruncatedError(`input ends inside an entry record at byte ${this.offset}`, {
        offset: this.offset,
        expected: this.partialSize || RECORD_HEADER,
        actual: this.partialLength,
      });
    }
  }

  /** Validates the record header at `at` and returns the record's total size. */
  private recordSize(buf: Buffer, at: number): number {
    const flags = buf[at]!;
    if ((flags & ~FLAGS_KNOWN) !== 0) {
      throw new FormatError(`bad entry record flags 0x${flags.toString(16)} at byte ${this.offset}`, {
        offset: this.offset,
        actual: flags,
      });
    }
    const keyLength = buf.readUInt32LE(at + 1);
    const valueLength = buf.readUInt32LE(at + 5);
    if (keyLength + valueLength > this.maxRecordSize) {
      throw new LimitError(
        `entry record at byte ${this.offset} claims ${keyLength + valueLength} bytes, over the limit of ${this.maxRecordSize}`,
        { offset: this.offset, expected: this.maxRecordSize, actual: keyLength + valueLength },
      );
    }
    return RECORD_HEADER + (flags & FLAG_EXPIRY ? EXPIRY_BYTES : 0) + keyLength + valueLength;
  }

  /** Decodes the record at `at`, whose header holds `flags` and the lengths; returns false when `emit` asked to stop. */
  private decodeRecord(buf: Buffer, at: number, flags: number, keyLength: number, valueLength: number, emit: EntrySink): boolean {
    let start = at + RECORD_HEADER;
    let expiresAt: number | undefined;
    if (flags & FLAG_EXPIRY) {
      expiresAt = readU64(buf, start);
      start += EXPIRY_BYTES;
    }
    const keyEnd = start + keyLength;
    const valueEnd = keyEnd + valueLength;
    this.offset += valueEnd - at;
    this.entries++;
    if (expiresAt !== undefined && this.skipExpired && expiresAt <= this.now) {
      this.expired++;
      return true;
    }
    const key = flags & FLAG_KEY_TEXT ? buf.toString('utf8', start, keyEnd) : this.bytes(buf, start, keyEnd);
    const value = flags & FLAG_VALUE_TEXT ? buf.toString('utf8', keyEnd, valueEnd) : this.bytes(buf, keyEnd, valueEnd);
    return emit(expiresAt === undefined ? { key, value } : { key, value, expiresAt }) !== false;
  }

  private bytes(buf: Buffer, start: number, end: number): Buffer {
    if (!this.copy) {
      if (buf !== this.viewSource) {
        this.viewSource = buf;
        this.viewMemory = buf.buffer;
        this.viewBase = buf.byteOffset;
      }
      return bufferView(buf, this.viewMemory!, this.viewBase, start, end);
    }
    if (end - start > SLAB / 2) {
      const out = Buffer.allocUnsafe(end - start);
      buf.copy(out, 0, start, end);
      return out;
    }
    // Small keys and values are views of a copy of the next 8 KiB of the input, made once for
    // all the records in it: a copy and an allocation per key and value cost more than decoding
    // the record. A kept entry holds its 8 KiB copy, as one Buffer.allocUnsafe gives from
    // Node's 8 KiB pool holds that pool: never the input.
    if (buf !== this.slabSource || start < this.slabStart || end > this.slabEnd) {
      const length = Math.min(SLAB, buf.length - start);
      this.slab = Buffer.allocUnsafeSlow(length);
      buf.copy(this.slab, 0, start, start + length);
      this.slabMemory = this.slab.buffer;
      this.slabBase = this.slab.byteOffset;
      this.slabSource = buf;
      this.slabStart = start;
      this.slabEnd = start + length;
    }
    return bufferView(this.slab!, this.slabMemory!, this.slabBase, start - this.slabStart, end - this.slabStart);
  }

  private startPartial(chunk: Buffer, at: number, size: number): void {
    const have = chunk.length - at;
    this.partial = Buffer.allocUnsafe(size || RECORD_HEADER);
    chunk.copy(this.partial, 0, at);
    this.partialLength = have;
    this.partialSize = size;
  }

  /**
   * Feeds the start of `chunk` to the split record; returns where whole records resume, and
   * the record once it is whole (null while it is not).
   */
  private continuePartial(chunk: Buffer): [number, Buffer | null] {
    let at = 0;
    if (this.partialSize === 0) {
      const take = Math.min(RECORD_HEADER - this.partialLength, chunk.length);
      chunk.copy(this.partial!, this.partialLength, 0, take);
      this.partialLength += take;
      at = take;
      if (this.partialLength < RECORD_HEADER) return [at, null];
      const header = this.partial!;
      this.partialSize = this.recordSize(header, 0);
      this.partial = Buffer.allocUnsafe(this.partialSize);
      header.copy(this.partial, 0, 0, RECORD_HEADER);
    }
    const take = Math.min(this.partialSize - this.partialLength, chunk.length - at);
    chunk.copy(this.partial!, this.partialLength, at, at + take);
    this.partialLength += take;
    at += take;
    if (this.partialLength === this.partialSize) {
      const record = this.partial!;
      this.partial = null;
      this.partialLength = 0;
      this.partialSize = 0;
      return [at, record];
    }
    return [at, null];
  }
}
