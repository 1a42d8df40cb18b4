/**
 * Entries as JSON Lines, for the shell: `{"key": "...", "value": "...", "expiresAt": 1700000000000}`.
 * Text stays text; bytes that are not text are written `{"base64": "..."}` and read back as Buffers.
 *
 * The reader is our own rather than a general JSON Lines parser so that a bad line is an
 * {@link InvalidEntryError} naming its line number and byte offset, raised through the stream
 * like any other error.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidEntryError } from '../errors.js';
import type { DecodedEntry, Entry } from '../format/entry.js';

type JsonField = string | { base64: string };

interface Where {
  where: string;
  offset: number;
}

function fromJson(field: unknown, name: string, at: Where): Buffer | string {
  if (typeof field === 'string') return field;
  if (field && typeof field === 'object' && typeof (field as { base64?: unknown }).base64 === 'string') {
    return Buffer.from((field as { base64: string }).base64, 'base64');
  }
  const why = field === undefined ? 'is missing' : 'must be a string or {"base64": "..."}';
  throw new InvalidEntryError(`${at.where}: "${name}" ${why}`, { offset: at.offset });
}

function toJson(field: Buffer | string): JsonField {
  return typeof field === 'string' ? field : { base64: field.toString('base64') };
}

const NEWLINE = 0x0a;

/**
 * JSON Lines bytes → entries. Blank lines are skipped; a line that is not JSON, not an object,
 * or lacks a string key or value fails the stream with an {@link InvalidEntryError} (`offset`:
 * the byte where the line starts). `bytes`, `lines` and `entries` say how far it got.
 */
export class JsonlEntryReader extends Transform {
  /** Bytes received. */
  bytes = 0;
  /** Lines read (the number of the last one). */
  lines = 0;
  /** Entries produced. */
  entries = 0;
  /** Byte offset of the first byte of `pending`. */
  private lineStart = 0;
  /** Pieces of a line not yet ended by a newline. */
  private pending: Buffer[] = [];

  constructor() {
    super({ readableObjectMode: true, readableHighWaterMark: 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    try {
      let start = 0;
      let nl = chunk.indexOf(NEWLINE);
      if (nl >= 0 && this.pending.length > 0) {
        this.pending.push(chunk.subarray(0, nl));
        const line = Buffer.concat(this.pending);
        this.pending = [];
        this.line(line, 0, line.length);
        start = nl + 1;
        nl = chunk.indexOf(NEWLINE, start);
      }
      while (nl >= 0) {
        this.line(chunk, start, nl);
        start = nl + 1;
        nl = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) this.pending.push(chunk.subarray(start));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.pending.length > 0) {
        const line = Buffer.concat(this.pending);
        this.pending = [];
        this.line(line, 0, line.length);
      }
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  /** One line, `buf[start, end)` without its newline. */
  private line(buf: Buffer, start: number, end: number): void {
    this.lines++;
    const offset = this.lineStart;
    this.lineStart += end - start + 1;
    const text = buf.toString('utf8', start, end);
    const where = `line ${this.lines} (byte ${offset})`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (text.trim() === '') return;
      throw new InvalidEntryError(`${where}: not valid JSON (${(err as Error).message})`, { offset });
    }
    this.push(toEntry(value, { where, offset }));
    this.entries++;
  }
}

function toEntry(v: unknown, at: Where): Entry {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidEntryError(`${at.where}: expected a JSON object {"key", "value", "expiresAt"?}`, { offset: at.offset });
  }
  const o = v as Record<string, unknown>;
  const entry: Entry = { key: fromJson(o.key, 'key', at), value: fromJson(o.value, 'value', at) };
  if (o.expiresAt !== undefined && o.expiresAt !== null) {
    if (typeof o.expiresAt !== 'number' || !Number.isSafeInteger(o.expiresAt) || o.expiresAt < 0) {
      throw new InvalidEntryError(`${at.where}: "expiresAt" must be milliseconds since the epoch (a whole number), got ${JSON.stringify(o.expiresAt)}`, {
        offset: at.offset,
      });
    }
    entry.expiresAt = o.expiresAt;
  }
  return entry;
}

/**
 * Entries (or batches of them) → JSON Lines text, each line ending in `\n`: one string per
 * batch (a chunk per entry made standard output write once per entry, which slows a big
 * unpack many times over).
 */
export function entriesToJsonLines(): Transform {
  const line = (e: DecodedEntry): string =>
    JSON.stringify(e.expiresAt === undefined ? { key: toJson(e.key), value: toJson(e.value) } : { key: toJson(e.key), value: toJson(e.value), expiresAt: e.expiresAt }) + '\n';
  return new Transform({
    writableObjectMode: true,
    transform(item: DecodedEntry | DecodedEntry[], _e, cb) {
      if (!Array.isArray(item)) return cb(null, line(item));
      let text = '';
      for (const e of item) text += line(e);
      cb(null, text);
    },
  });
}
