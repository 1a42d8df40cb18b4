/**
 * Entries as JSON Lines, for the shell: `{"key": "...", "value": "...", "expiresAt": 1700000000000}`.
 * Text stays text; bytes that are not text are written `{"base64": "..."}` and read back as Buffers.
 */
import { Transform } from 'node:stream';
import { InvalidEntryError } from '../errors.js';
import type { DecodedEntry, Entry } from '../format/entry.js';

type JsonField = string | { base64: string };

function fromJson(field: unknown, name: string, line: number): Buffer | string {
  if (typeof field === 'string') return field;
  if (field && typeof field === 'object' && typeof (field as { base64?: unknown }).base64 === 'string') {
    return Buffer.from((field as { base64: string }).base64, 'base64');
  }
  throw new InvalidEntryError(`line ${line}: "${name}" must be a string or {"base64": "..."}`, { seq: line });
}

function toJson(field: Buffer | string): JsonField {
  return typeof field === 'string' ? field : { base64: field.toString('base64') };
}

/** `{ key, value }` items of a JSON Lines parser (stream-chain's jsonl) → entries. */
export function jsonToEntries(): Transform {
  let line = 0;
  return new Transform({
    objectMode: true,
    transform(item: { value: unknown }, _e, cb) {
      line++;
      const v = item.value as Record<string, unknown> | null;
      try {
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidEntryError(`line ${line}: expected a JSON object`, { seq: line });
        const entry: Entry = { key: fromJson(v.key, 'key', line), value: fromJson(v.value, 'value', line) };
        if (v.expiresAt !== undefined && v.expiresAt !== null) entry.expiresAt = v.expiresAt as number;
        cb(null, entry);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

/** Entries (or batches of them) → JSON-ready objects. */
export function entriesToJson(): Transform {
  const one = (e: DecodedEntry): Record<string, unknown> =>
    e.expiresAt === undefined ? { key: toJson(e.key), value: toJson(e.value) } : { key: toJson(e.key), value: toJson(e.value), expiresAt: e.expiresAt };
  return new Transform({
    objectMode: true,
    transform(item: DecodedEntry | DecodedEntry[], _e, cb) {
      if (Array.isArray(item)) {
        for (const e of item) this.push(one(e));
        cb();
      } else cb(null, one(item));
    },
  });
}

/**
 * Entries (or batches of them) → JSON Lines text, each line ending in `\n`: one string per
 * batch. (A stringer stage after {@link entriesToJson} pushed one chunk per entry, and standard
 * output then made one write per entry: 22 M entries took over 300 s.)
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
