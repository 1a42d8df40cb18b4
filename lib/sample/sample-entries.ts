/**
 * A deterministic sample data set: user-profile-like JSON values under `user:NNNNNNNNNNNN` keys,
 * a quarter of them with an expiry (half of those already past). It compresses with zstd level 1
 * about as real cache and database contents do (`npm run bench` prints the ratio). Used by
 * `snapstream demo` and the benchmarks.
 */
import type { Entry } from '../format/entry.js';

/** Options of {@link sampleEntries}. */
export interface SampleOptions {
  /** Number of entries. Default 200,000 (unless `bytes` is given). */
  count?: number;
  /** Stop once the encoded entries reach this many bytes (instead of `count`). */
  bytes?: number;
  /** Keys and values as strings (true) or Buffers (false, default). */
  text?: boolean;
  /** The time expiries are placed around, in ms. Default: now. */
  now?: number;
  /** Seed of the value generator. Default 1. */
  seed?: number;
  /** Index of the first entry (to restart a source from a cursor). Default 0. */
  start?: number;
}

/** Distinct values, cycled; far enough apart that a compressor cannot see the repeats. */
const POOL = 16384;

function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Calls `fn` with each value of the pool, in order. */
function eachValue(seed: number, fn: (value: string, index: number) => void): void {
  const rnd = mulberry32(seed);
  const words: string[] = [];
  for (let i = 0; i < 512; i++) {
    let w = '';
    for (let j = 3 + (rnd() % 8); j > 0; j--) w += String.fromCharCode(97 + (rnd() % 26));
    words.push(w);
  }
  // Word frequencies fall off steeply, as in real text.
  const word = (): string => {
    const u = rnd() / 4294967296;
    return words[Math.floor(512 * u * u * u * u)]!;
  };
  for (let i = 0; i < POOL; i++) {
    const bio: string[] = [];
    for (let j = 10 + (rnd() % 150); j > 0; j--) bio.push(word());
    // Built with join, so each value is one flat string (a `+=` chain leaves a rope of
    // hundreds of heap objects per value, tens of megabytes of heap for the pool).
    const value = [
      `{"name":"${word()} ${word()}","email":"${word()}@${word()}.example","age":${rnd() % 90},`,
      `"score":${rnd() % 100000},"city":"${word()}","bio":"${bio.join(' ')} "}`,
    ].join('');
    fn(value, i);
  }
}

/*
 * The pool is kept in a few large allocations with the values as views or slices of them:
 * 16,384 separate strings or Buffers all survived the young generation while the pool was
 * built, and that much surviving made V8 grow the young generation to its maximum (tens of MB
 * more resident memory for the whole run of whatever process drew from the pool).
 */

/** The values as views of one latin1 buffer. */
function bufferPool(seed: number): Buffer[] {
  let bytes = Buffer.allocUnsafeSlow(16 * 1024 * 1024);
  const ends = new Uint32Array(POOL);
  let length = 0;
  eachValue(seed, (value, i) => {
    if (length + value.length > bytes.length) {
      const grown = Buffer.allocUnsafeSlow(bytes.length * 2);
      bytes.copy(grown, 0, 0, length);
      bytes = grown;
    }
    length += bytes.write(value, length, 'latin1');
    ends[i] = length;
  });
  return Array.from(ends, (end, i) => bytes.subarray(i > 0 ? ends[i - 1] : 0, end));
}

/** The values as slices of strings of over 128 KiB, which V8 allocates outside the young generation. */
function textPool(seed: number): string[] {
  const values: string[] = [];
  let pending: string[] = [];
  let length = 0;
  const flush = (): void => {
    const chunk = pending.join('');
    let at = 0;
    for (const value of pending) values.push(chunk.slice(at, (at += value.length)));
    pending = [];
    length = 0;
  };
  eachValue(seed, (value) => {
    pending.push(value);
    length += value.length;
    if (length > 160 * 1024) flush();
  });
  if (pending.length > 0) flush();
  return values;
}

/** Adds one to the decimal digits at the end of `digits`. */
function increment(digits: Buffer): void {
  for (let at = digits.length - 1; at >= 0; at--) {
    if (digits[at]! < 0x39) {
      digits[at]!++;
      return;
    }
    digits[at] = 0x30;
  }
}

/** Yields the sample entries. */
export function* sampleEntries(options: SampleOptions = {}): Generator<Entry> {
  const text = options.text === true;
  const now = options.now ?? Date.now();
  const limitBytes = options.bytes ?? Infinity;
  const count = options.count ?? (options.bytes === undefined ? 200_000 : Infinity);
  const values: (string | Buffer)[] = text ? textPool(options.seed ?? 1) : bufferPool(options.seed ?? 1);
  let bytes = 0;
  const start = options.start ?? 0;
  // The key `user:NNNNNNNNNNNN`, kept as bytes and counted up in place (cheaper than formatting
  // a string per entry); each entry gets its own copy.
  const counter = Buffer.from(`user:${String(start).padStart(12, '0')}`, 'latin1');
  for (let i = start; i < count && bytes < limitBytes; i++) {
    if (i > start) increment(counter);
    const value = values[i % POOL]!;
    const entry: Entry = { key: text ? counter.toString('latin1') : Buffer.from(counter), value };
    bytes += 9 + counter.length + value.length;
    if (i % 4 === 0) {
      // Half expired an hour ago, half expire in a day.
      entry.expiresAt = i % 8 === 0 ? now - 3_600_000 + (i % 1000) : now + 86_400_000 + (i % 1000);
      bytes += 8;
    }
    yield entry;
  }
}
