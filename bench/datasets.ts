/**
 * The bench's data sets, each a deterministic stream of entries whose encoded form is about
 * `bytes` long:
 *
 * - `sample`: `sampleEntries` (user-profile-like JSON values; ≈ 4× with zstd -1);
 * - `random`: 16 KiB values of random bytes (an AES-CTR keystream of a fixed key), as state
 *   that is already compressed or encrypted: the encoded stream is 99.8% random bytes;
 * - `mixed`: the sample entries with each value half random bytes, half its text;
 * - `small`: entries of ≈ 150 bytes (a 17-byte key, a value of 100–160 bytes of the sample
 *   text), as a cache of sessions or counters holds: the per-entry work, not the bytes, is the load.
 */
import crypto from 'node:crypto';
import { sampleEntries, type Entry } from 'snapstream';
import { BENCH_NOW } from './bench-now.js';

export const DATASETS = ['sample', 'random', 'mixed', 'small'] as const;
export type Dataset = (typeof DATASETS)[number];

const RANDOM_VALUE = 16 * 1024;
/**
 * Values are views of pools generated once, as `sampleEntries` cycles its values: what is
 * measured is snapstream, not the making of a fresh buffer per entry. A 16 MiB pool is far
 * beyond any window zstd -1 or LZ4 look back over, so its repeats are never seen.
 */
const RANDOM_POOL = 16 * 1024 * 1024;
/** `sampleEntries` cycles this many distinct values. */
const SAMPLE_POOL = 16384;

/** `n` random bytes, the same on every run: the keystream of AES-128-CTR under a fixed key. */
export function randomBytes(n: number): Buffer {
  const cipher = crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
}

/** The entries of data set `name`, about `bytes` of them once encoded (`small`: values as strings when `text`). */
export function* datasetEntries(name: Dataset, bytes: number, text = false): Generator<Entry> {
  if (name === 'sample') {
    yield* sampleEntries({ bytes, now: BENCH_NOW });
    return;
  }
  if (name === 'small') {
    yield* smallEntries(bytes, text);
    return;
  }
  // Mixed values take their random halves from the pool one after the other: 4 MiB for all.
  const random = randomBytes(name === 'random' ? RANDOM_POOL : 6 * 1024 * 1024);
  if (name === 'random') {
    const values = RANDOM_POOL / RANDOM_VALUE;
    for (let i = 0, total = 0; total < bytes; i++) {
      const key = `rand:${String(i).padStart(12, '0')}`;
      total += 9 + key.length + RANDOM_VALUE;
      const at = (i % values) * RANDOM_VALUE;
      yield { key: Buffer.from(key, 'latin1'), value: random.subarray(at, at + RANDOM_VALUE) };
    }
    return;
  }
  // Mixed: each distinct sample value made once, half random bytes then half its text.
  const mixed: Buffer[] = [];
  let pool = Buffer.alloc(0);
  let used = 0;
  let randomAt = 0;
  let i = 0;
  for (const entry of sampleEntries({ bytes, now: BENCH_NOW })) {
    // sampleEntries gives entry i the value i % SAMPLE_POOL.
    const index = i++ % SAMPLE_POOL;
    if (index === mixed.length) {
      const text = entry.value as Buffer;
      if (used + text.length > pool.length) {
        pool = Buffer.allocUnsafeSlow(4 * 1024 * 1024);
        used = 0;
      }
      const value = pool.subarray(used, used + text.length);
      used += text.length;
      const half = text.length >>> 1;
      const fill = text.length - half;
      if (randomAt + fill > random.length) randomAt = 0;
      random.copy(value, 0, randomAt, (randomAt += fill));
      text.copy(value, fill, 0, half);
      mixed.push(value);
    }
    entry.value = mixed[index]!;
    yield entry;
  }
}

/**
 * The `small` data set: keys `user:NNNNNNNNNNNN` as sampleEntries makes them, values the first
 * 100–160 bytes of its distinct values (views made once), a quarter with an expiry. One generator
 * with no work per entry beyond its key, so what is measured is snapstream.
 */
function* smallEntries(bytes: number, text: boolean): Generator<Entry> {
  const values: (Buffer | string)[] = [];
  for (const entry of sampleEntries({ count: SAMPLE_POOL, now: BENCH_NOW })) {
    const full = entry.value as Buffer;
    const value = full.subarray(0, Math.min(full.length, 100 + (values.length % 61)));
    values.push(text ? value.toString('latin1') : value);
  }
  const counter = Buffer.from('user:000000000000', 'latin1');
  let total = 0;
  for (let i = 0; ; i++) {
    for (let at = counter.length - 1; at >= 5; at--) {
      if (counter[at]! < 0x39) {
        counter[at]!++;
        break;
      }
      counter[at] = 0x30;
    }
    const value = values[i % SAMPLE_POOL]!;
    const entry: Entry = { key: text ? counter.toString('latin1') : Buffer.from(counter), value };
    total += 9 + counter.length + value.length;
    if (i % 4 === 0) {
      entry.expiresAt = BENCH_NOW + 86_400_000 + (i % 1000);
      total += 8;
    }
    if (total > bytes) return;
    yield entry;
  }
}
