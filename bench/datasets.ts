/**
 * The bench's data sets, each a deterministic stream of entries whose encoded form is about
 * `bytes` long:
 *
 * - `sample`: `sampleEntries` (user-profile-like JSON values; ≈ 4× with zstd -1);
 * - `random`: 16 KiB values of random bytes (an AES-CTR keystream of a fixed key), as state
 *   that is already compressed or encrypted: the encoded stream is 99.8% random bytes;
 * - `mixed`: the sample entries with each value half random bytes, half its text.
 */
import crypto from 'node:crypto';
import { sampleEntries, type Entry } from 'snapstream';
import { BENCH_NOW } from './bench-now.js';

export const DATASETS = ['sample', 'random', 'mixed'] as const;
export type Dataset = (typeof DATASETS)[number];

const RANDOM_VALUE = 16 * 1024;

/** Random bytes, the same on every run: the keystream of AES-128-CTR under a fixed key. */
export class RandomBytes {
  private readonly cipher = crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  private pool = Buffer.alloc(0);
  private at = 0;
  private readonly zeros = Buffer.alloc(1 << 20);

  /** The next `n` random bytes (a fresh Buffer of its own). */
  next(n: number): Buffer {
    if (this.at + n > this.pool.length) {
      this.pool = this.cipher.update(this.zeros.subarray(0, Math.max(n, this.zeros.length)));
      this.at = 0;
    }
    const out = Buffer.from(this.pool.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }
}

/** The entries of data set `name`, about `bytes` of them once encoded. */
export function* datasetEntries(name: Dataset, bytes: number): Generator<Entry> {
  if (name === 'sample') {
    yield* sampleEntries({ bytes, now: BENCH_NOW });
    return;
  }
  const random = new RandomBytes();
  if (name === 'random') {
    for (let i = 0, total = 0; total < bytes; i++) {
      const key = `rand:${String(i).padStart(12, '0')}`;
      total += 9 + key.length + RANDOM_VALUE;
      yield { key: Buffer.from(key, 'latin1'), value: random.next(RANDOM_VALUE) };
    }
    return;
  }
  for (const entry of sampleEntries({ bytes, now: BENCH_NOW })) {
    const text = entry.value as Buffer;
    const half = text.length >>> 1;
    const value = Buffer.allocUnsafe(text.length);
    random.next(text.length - half).copy(value);
    text.copy(value, text.length - half, 0, half);
    yield { ...entry, value };
  }
}
