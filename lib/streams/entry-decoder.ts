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
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

export interface EntryDecoderOptions extends StageOptions, EntryParserOptions {
  /** Emit arrays of entries (one per input chunk) instead of single entries. */
  batch?: boolean;
  /** Take `{ data: Buffer }` blocks of whole records instead of bytes. */
  blocks?: boolean;
}

export class EntryDecoder extends Transform {
  private readonly parser: EntryParser;
  private readonly batch: boolean;
  private readonly blockMode: boolean;

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

  override _transform(chunk: Buffer | { data: Buffer }, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.blockMode ? (chunk as { data: Buffer }).data : (chunk as Buffer);
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
    } catch (err) {
      return callback(err as Error);
    }
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
