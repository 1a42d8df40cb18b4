/**
 * `readSnapshot(file, { batch: 'block' })`: one array per block, holding every entry of that
 * block (its header's count), in order — however many more than the 128 of `batch: true` — and
 * the same entries as the README's loop; expired entries skipped with `skipExpired` are simply
 * absent from their block's array. An EntryDecoder given `batch: 'block'` emits one array per
 * input chunk. The entries stay valid after the read (copies, as with `batch: true`).
 */
import t from 'tap';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createEntryDecoder, createEntryEncoder, inspectSnapshot, readSnapshot, writeSnapshot, type DecodedEntry, type Entry } from '../../lib/index.js';
import { MAX_BATCH } from '../../lib/streams/entry-decoder.js';

const COUNT = 40_000;
const NOW = 4_000_000_000_000;

function* entries(): Generator<Entry> {
  for (let i = 0; i < COUNT; i++) {
    // Text that compresses, so the blocks go through the worker threads; every 5th expired.
    yield { key: `key-${i}`, value: Buffer.from(`value ${i} `.repeat(1 + (i % 7))), ...(i % 5 === 0 ? { expiresAt: NOW - 1000 + (i % 3) * 2000 } : {}) };
  }
}

const same = (a: DecodedEntry, b: DecodedEntry): boolean =>
  String(a.key) === String(b.key) && Buffer.compare(a.value as Buffer, b.value as Buffer) === 0 && a.expiresAt === b.expiresAt;

t.test('one array per block, every entry of the block', async (t) => {
  const file = path.join(t.testdir(), 'block.snap');
  await writeSnapshot(entries(), file, { codec: 'zstd', blockSize: 64 * 1024 });
  const info = await inspectSnapshot(file);
  t.ok(info.blocks.length > 3, 'several blocks');
  t.ok(info.blocks.some((b) => b.entries > MAX_BATCH), 'blocks of more entries than an array of batch: true holds');

  const arrays: DecodedEntry[][] = [];
  for await (const batch of readSnapshot(file, { batch: 'block' })) arrays.push(batch as DecodedEntry[]);
  t.same(
    arrays.map((a) => a.length),
    info.blocks.map((b) => b.entries),
    "one array per block, of its header's entry count",
  );
  const flat = arrays.flat();
  let i = 0;
  let equal = 0;
  for await (const e of readSnapshot(file)) if (same(e, flat[i++]!)) equal++;
  t.equal(equal, COUNT, 'the same entries, in the same order, as the loop');
});

t.test('skipExpired: the expired entries are absent from their block', async (t) => {
  const file = path.join(t.testdir(), 'expiry.snap');
  await writeSnapshot(entries(), file, { codec: 'lz4', blockSize: 32 * 1024 });
  const info = await inspectSnapshot(file);
  const arrays: DecodedEntry[][] = [];
  for await (const batch of readSnapshot(file, { batch: 'block', skipExpired: true, now: NOW })) arrays.push(batch as DecodedEntry[]);
  t.ok(arrays.length <= info.blocks.length, 'at most one array per block');
  const kept = arrays.flat();
  t.ok(kept.length < COUNT && kept.length > COUNT / 2, 'expired entries skipped');
  t.ok(kept.every((e) => e.expiresAt === undefined || e.expiresAt > NOW), 'none of them expired');
});

t.test('EntryDecoder: one array per input chunk', async (t) => {
  const list = [...entries()].slice(0, 3000);
  const encoded: Buffer[] = [];
  for await (const b of Readable.from(list).pipe(createEntryEncoder())) encoded.push(b as Buffer);
  const bytes = Buffer.concat(encoded);
  // Three chunks cut at record boundaries? No: anywhere; a record split across chunks comes out in the later one's array.
  const cuts = [0, 20_000, 50_001, bytes.length];
  const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
  const decoder = createEntryDecoder({ batch: 'block' });
  const arrays: DecodedEntry[][] = [];
  const done = (async () => {
    for await (const a of decoder) arrays.push(a as DecodedEntry[]);
  })();
  for (const c of chunks) decoder.write(c);
  decoder.end();
  await done;
  t.equal(arrays.length, chunks.length, 'one array per chunk');
  t.ok(arrays.some((a) => a.length > MAX_BATCH), 'longer than batch: true makes them');
  t.equal(arrays.flat().length, list.length, 'every entry');
  t.ok(arrays.flat().every((e, i) => String(e.key) === list[i]!.key), 'in order');
});
