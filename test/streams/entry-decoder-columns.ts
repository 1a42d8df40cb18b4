/**
 * EntryDecoder with `batch: 'columns'`: the same entries as a single-entry read, in batches of
 * columns — one Buffer holding the records' keys and values, their offsets, flags and expiries.
 * Records cut anywhere across input chunks (one split across two chunks makes a batch of its
 * own), text and byte keys and values, empty ones, expiries, expired entries skipped, batches
 * never larger than their limits, and with `copy: true` nothing shared with the input, which
 * its owner may then reuse. readSnapshot's form of it reads every entry of a snapshot in order.
 */
import t, { type Test } from 'tap';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { EntryDecoder, readSnapshot, writeSnapshot, type DecodedEntry, type Entry, type EntryColumns } from '../../lib/index.js';
import { MAX_COLUMN_BYTES, MAX_COLUMN_ENTRIES } from '../../lib/format/entry-columns.js';
import { encodeEntries } from '../fixtures/entry-bytes.js';
import { chunks, mulberry32, testSeed } from '../fixtures/random.js';

const seed = testSeed(t, 0x5eed_c01);

/** Seeded entries: text and byte keys and values, some empty, some large, a third with an expiry (some past). */
function entries(count: number, salt: number): Entry[] {
  const rand = mulberry32(seed + salt);
  return Array.from({ length: count }, (_, i) => {
    const size = i % 97 === 0 ? 5000 + Math.floor(rand() * 20_000) : Math.floor(rand() * 200);
    const bytes = Buffer.alloc(size);
    for (let j = 0; j < size; j++) bytes[j] = Math.floor(rand() * 256);
    const key = i % 3 === 0 ? `kéy-${i}` : Buffer.from(`key-${i}`);
    const value = i % 4 === 0 ? `välue ${i} `.repeat(size % 13) : bytes;
    const expiresAt = i % 3 === 1 ? (i % 2 === 0 ? 1_000 + i : 4_000_000_000_000 + i) : undefined;
    return expiresAt === undefined ? { key, value } : { key, value, expiresAt };
  });
}

/** What a single-entry read gives for `entries`. */
const asDecoded = (list: Entry[]): DecodedEntry[] =>
  list.map((e) => {
    const key = typeof e.key === 'string' ? e.key : Buffer.from(e.key);
    const value = typeof e.value === 'string' ? e.value : Buffer.from(e.value);
    return typeof e.expiresAt === 'number' ? { key, value, expiresAt: e.expiresAt } : { key, value };
  });

/** Every entry of the batches, through each accessor, checked to agree with each other. */
function unpack(t: Test, batches: EntryColumns[]): DecodedEntry[] {
  const out: DecodedEntry[] = [];
  let agree = true;
  for (const b of batches) {
    const viaIterator = [...b];
    for (let i = 0; i < b.length; i++) {
      const e = b.entry(i);
      const o = b.offsets;
      const keyBytes = b.data.subarray(o[3 * i]!, o[3 * i + 1]!);
      const valueBytes = b.data.subarray(o[3 * i + 1]!, o[3 * i + 2]!);
      agree &&=
        isDeepStrictEqual(e, viaIterator[i]) &&
        isDeepStrictEqual(b.key(i), e.key) &&
        isDeepStrictEqual(b.value(i), e.value) &&
        b.expiresAt(i) === e.expiresAt &&
        b.keyText(i) === keyBytes.toString('utf8') &&
        Buffer.from(e.key).equals(keyBytes) &&
        Buffer.from(e.value).equals(valueBytes) &&
        (b.expiry === null ? e.expiresAt === undefined : Object.is(b.expiry[i], e.expiresAt ?? NaN));
      out.push(e);
    }
  }
  t.ok(agree, 'entry(i), the iterator, key(i), value(i), keyText(i), expiresAt(i) and the offsets agree');
  return out;
}

async function decodeColumns(input: Buffer[], options: ConstructorParameters<typeof EntryDecoder>[0]): Promise<EntryColumns[]> {
  const batches: EntryColumns[] = [];
  for await (const b of Readable.from(input).pipe(new EntryDecoder({ ...options, batch: 'columns' }))) batches.push(b as EntryColumns);
  return batches;
}

t.test('the entries of a single-entry read, records cut anywhere across chunks', async (t) => {
  const list = entries(3000, 1);
  const bytes = await encodeEntries(list);
  for (const size of [-700, 1, 4096]) {
    const input = [...chunks(bytes, size, seed)];
    const batches = await decodeColumns(input, {});
    const got = unpack(t, batches);
    t.ok(isDeepStrictEqual(got, asDecoded(list)), `chunks of ${size < 0 ? `up to ${-size}` : size} bytes: every entry, in order`);
    t.ok(batches.every((b) => b.length > 0 && b.length <= MAX_COLUMN_ENTRIES), 'no empty batch, none over the limit');
    t.equal(batches.every((b) => b.expiry === null || b.flags.some((f) => f & 1)), true, 'an expiry column only where an entry has one');
  }
});

t.test('skipExpired: expired entries left out of the columns', async (t) => {
  const list = entries(2000, 2);
  const bytes = await encodeEntries(list);
  const now = 2_000_000_000_000;
  const got = unpack(t, await decodeColumns([...chunks(bytes, -3000, seed)], { skipExpired: true, now }));
  const want = asDecoded(list).filter((e) => e.expiresAt === undefined || e.expiresAt > now);
  t.ok(want.length < list.length, 'some have expired');
  t.ok(isDeepStrictEqual(got, want), 'the others, in order');
});

t.test('batches end at their entry and byte limits', async (t) => {
  const small = Array.from({ length: MAX_COLUMN_ENTRIES * 2 + 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.from([i & 255]), ...(i % 3 === 1 ? { expiresAt: 5_000_000_000_000 + i } : {}) }));
  const bytes = await encodeEntries(small);
  const batches = await decodeColumns([bytes], {});
  // A batch also goes out early when decoding yields to the event loop (every 10 ms), so only the limit is certain.
  t.ok(batches.length >= 3 && batches.every((b) => b.length <= MAX_COLUMN_ENTRIES), `${batches.length} batches of at most ${MAX_COLUMN_ENTRIES} entries`);
  t.ok(isDeepStrictEqual(unpack(t, batches), asDecoded(small)), 'every entry');
  const large = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(100 * 1024, i) }));
  const big = await decodeColumns([await encodeEntries(large)], {});
  t.ok(big.length > 1 && big.every((b) => b.data.length < MAX_COLUMN_BYTES + 110 * 1024), `${big.length} batches of about ${MAX_COLUMN_BYTES} bytes at most`);
  t.ok(isDeepStrictEqual(unpack(t, big), asDecoded(large)), 'every entry');
});

t.test('copy: the batches share no memory with the input, which may be reused at once', async (t) => {
  const list = entries(1500, 3);
  const bytes = await encodeEntries(list);
  const input = [...chunks(Buffer.from(bytes), -5000, seed)];
  const batches = await decodeColumns(input, { copy: true });
  for (const c of input) c.fill(0);
  t.ok(batches.every((b) => input.every((c) => b.data.buffer !== c.buffer)), 'no batch is a view of an input chunk');
  t.ok(isDeepStrictEqual(unpack(t, batches), asDecoded(list)), 'every entry intact after the input was overwritten');
});

t.test('readSnapshot: every entry of the snapshot, in order, batches kept after the read', async (t) => {
  const list = entries(20_000, 4).map((e) => ({ ...e, expiresAt: undefined }));
  const file = path.join(t.testdir(), 'columns.snap');
  await writeSnapshot(list, file, { blockSize: 64 * 1024 });
  const kept: EntryColumns[] = [];
  for await (const b of readSnapshot(file, { batch: 'columns' }) as AsyncIterable<EntryColumns>) kept.push(b);
  // Another read through the same pooled memory: kept batches must not change.
  for await (const b of readSnapshot(file, { batch: 'columns' }) as AsyncIterable<EntryColumns>) b.data.fill(0);
  t.ok(isDeepStrictEqual(unpack(t, kept), asDecoded(list.map(({ key, value }) => ({ key, value })))), 'every entry intact');
});

t.test('damage and truncation are the typed errors of a single-entry read', async (t) => {
  const bytes = await encodeEntries(entries(50, 5));
  const bad = Buffer.from(bytes);
  bad[0] = 0x80; // unknown flag bits in the first record
  await t.rejects(decodeColumns([bad], {}), { code: 'SNAP_ERR_FORMAT' }, 'unknown flags');
  await t.rejects(decodeColumns([...chunks(bytes.subarray(0, bytes.length - 3), 1000, seed)], {}), { code: 'SNAP_ERR_TRUNCATED' }, 'input ending inside a record');
});
