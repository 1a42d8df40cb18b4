/**
 * EntryEncoder: entries → bytes. Takes `{ key, value, expiresAt? }` objects (or arrays of them,
 * which cost one stream write for the whole batch) and emits their records in blocks of up to
 * `blockSize` bytes that never split a record.
 *
 * With `blocks: true` the readable side is in object mode and emits {@link RawBlock}s
 * `{ data, entries, cursor }`, ready for a block-mode Compressor.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { checkBlockSize, DEFAULT_BLOCK_SIZE } from '../codec/codec.js';
import type { RawBlock } from '../format/block.js';
import type { Entry } from '../format/entry.js';
import type { BlockBoundaries } from '../format/content-boundaries.js';
import { EntryBlockWriter } from '../format/entry-record.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Options of {@link EntryEncoder} (and {@link createEntryEncoder}). */
export interface EntryEncoderOptions extends StageOptions {
  /**
   * Largest block emitted, in bytes (a bigger record gets a block of its own). Default 1 MiB.
   * With content boundaries, the size blocks average about (from half to twice it, at most 64 MiB).
   */
  blockSize?: number;
  /**
   * `'content'`: blocks end where the entries' keys say (docs/FORMAT.md 3.10), so encodings of
   * similar entries share most blocks; a SnapshotFramer after it then needs `blockSize`
   * `contentBlockLimits(blockSize).max`. `'fixed'` (default here): every block filled to `blockSize`.
   */
  boundaries?: BlockBoundaries;
  /** Emit RawBlock objects instead of bytes. */
  blocks?: boolean;
  /**
   * The source cursor after an entry, recorded per block (block mode). Default: the number of
   * entries so far. A sorted database source would return the entry's key.
   */
  cursorOf?: (entry: Entry, count: number) => unknown;
}

/**
 * Entries → bytes: `{ key, value, expiresAt? }` objects (or arrays of them) in, their encoded
 * records out in blocks of up to `blockSize` bytes, or {@link RawBlock}s with `blocks: true`.
 * Made by {@link createEntryEncoder}.
 */
export class EntryEncoder extends Transform {
  private readonly writer: EntryBlockWriter;
  private readonly blockMode: boolean;
  private readonly cursorOf: (entry: Entry, count: number) => unknown;
  private last: Entry | null = null;
  private bytes = 0;

  constructor(options: EntryEncoderOptions = {}) {
    const blockMode = options.blocks === true;
    super({
      ...nodeStreamOptions(options),
      writableObjectMode: true,
      readableObjectMode: blockMode,
      ...(blockMode && options.highWaterMark === undefined ? { highWaterMark: 2 } : {}),
    });
    this.writer = new EntryBlockWriter(checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE), false, options.boundaries ?? 'fixed');
    this.blockMode = blockMode;
    this.cursorOf = options.cursorOf ?? ((_entry, count) => count);
  }

  /** Entries encoded so far. */
  get entries(): number {
    return this.writer.total;
  }

  override _transform(chunk: Entry | Entry[], _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (Array.isArray(chunk)) for (const entry of chunk) this.add(entry);
      else this.add(chunk);
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.writer.count > 0) this.emitBlock();
    callback();
  }

  private add(entry: Entry): void {
    if (!this.writer.append(entry)) {
      this.emitBlock();
      this.writer.append(entry);
    }
    this.last = entry;
    if (this.writer.boundary) this.emitBlock();
  }

  private emitBlock(): void {
    // Called before the entry that did not fit is appended, or after a content boundary: `last` is this block's last entry.
    const entries = this.writer.count;
    const data = this.writer.take();
    this.bytes += data.length;
    if (this.blockMode) {
      const block: RawBlock = { data, entries, cursor: this.cursorOf(this.last!, this.writer.total) };
      this.push(block);
    } else {
      this.push(data);
    }
    this.emit('progress', { bytes: this.bytes, entries: this.writer.total });
  }
}

/** Creates an {@link EntryEncoder}. */
export function createEntryEncoder(options?: EntryEncoderOptions): EntryEncoder {
  return new EntryEncoder(options);
}
