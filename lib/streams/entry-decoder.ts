/**
 * EntryDecoder: bytes → entries. Records may be cut anywhere across input chunks. Emits one
 * `{ key, value, expiresAt? }` object per entry, or with `batch: true` one array per input
 * chunk (far fewer stream operations for millions of small entries).
 *
 * With `blocks: true` the writable side takes `{ data }` objects (whole blocks, as a block-mode
 * Decompressor emits them) instead of bytes.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { DecodedEntry } from '../format/entry.js';
import { EntryParser, type EntryParserOptions } from '../format/entry-parser.js';
import { recycleBlock } from '../format/block-buffers.js';
import { FormatError } from '../errors.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

export interface EntryDecoderOptions extends StageOptions, EntryParserOptions {
  /** Emit arrays of entries (one per input chunk) instead of single entries. */
  batch?: boolean;
  /** Take `{ data: Buffer }` blocks of whole records instead of bytes. */
  blocks?: boolean;
}

/** A block of whole records, as a block-mode Decompressor emits it. */
interface DecoderBlock {
  data: Buffer;
  /** Entries the block's header says it holds (checked when given). */
  entries?: number;
  seq?: number;
  /** The block's memory is ours to reuse once decoded. */
  owned?: boolean;
}

/**
 * Bytes (or whole blocks with `blocks: true`) → entries: one `{ key, value, expiresAt? }` object
 * per entry, or one array per input chunk with `batch: true`. Made by {@link createEntryDecoder}.
 */
export class EntryDecoder extends Transform {
  private readonly parser: EntryParser;
  private readonly batch: boolean;
  private readonly blockMode: boolean;
  private readonly copy: boolean;

  constructor(options: EntryDecoderOptions = {}) {
    super({
      ...nodeStreamOptions(options),
      writableObjectMode: options.blocks === true,
      readableObjectMode: true,
      ...(options.highWaterMark === undefined ? { readableHighWaterMark: options.batch ? 4 : 1024 } : {}),
      // Whole blocks (up to 64 MiB each) queue on the writable side: two, as in the other block-mode stages.
      ...(options.blocks === true && options.highWaterMark === undefined ? { writableHighWaterMark: 2 } : {}),
    });
    this.parser = new EntryParser(options);
    this.copy = options.copy === true;
    this.batch = options.batch === true;
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
    const data = block ? block.data : (chunk as Buffer);
    const before = this.parser.entries;
    try {
      if (this.batch) {
        const out: DecodedEntry[] = [];
        this.parser.write(data, (e) => out.push(e));
        if (this.blockMode) this.parser.end();
        if (out.length > 0) this.push(out);
      } else {
        this.parser.write(data, (e) => this.push(e));
        if (this.blockMode) this.parser.end();
      }
      if (block && typeof block.entries === 'number' && this.parser.entries - before !== block.entries) {
        const found = this.parser.entries - before;
        throw new FormatError(`block ${String(block.seq ?? '')} holds ${found} entries, its header says ${block.entries}`, {
          ...(typeof block.seq === 'number' ? { seq: block.seq } : {}),
          expected: block.entries,
          actual: found,
        });
      }
    } catch (err) {
      return callback(err as Error);
    }
    // Nothing refers to the block any more when every key and value was copied out of it.
    if (block?.owned && this.copy) recycleBlock(block.data.buffer);
    this.emit('progress', { bytes: this.parser.offset, entries: this.parser.entries });
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.parser.end();
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }
}

/** Creates an {@link EntryDecoder}. */
export function createEntryDecoder(options?: EntryDecoderOptions): EntryDecoder {
  return new EntryDecoder(options);
}
