/**
 * Peak RSS of a small-entry read (issue 14): what V8 keeps of a read depends on how many
 * decoded entries are alive at each young-generation collection, since surviving ones make V8
 * enlarge its young generation (to 64 MiB on Node 24). readSnapshot keeps few decoded ahead of
 * its reader — arrays of at most 128 entries, one held — in the README's loop and in batch mode,
 * however slowly the reader goes (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
import t from 'tap';
import path from 'node:path';
import { readSnapshot, writeSnapshot, type DecodedEntry, type Entry } from '../../lib/index.js';

const COUNT = 40_000;

function* entries(): Generator<Entry> {
  for (let i = 0; i < COUNT; i++) yield { key: `key-${i}`, value: `small value ${i} `.repeat(1 + (i % 5)) };
}

const file = path.join(t.testdir(), 'small.snap');

t.before(async () => {
  await writeSnapshot(entries(), file, { codec: 'zstd' });
});

/** Lets the decoder run as far ahead as it will. */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

t.test("the README's loop: at most 384 entries decoded ahead of it", async (t) => {
  const stream = readSnapshot(file);
  let n = 0;
  let worst = 0;
  for await (const e of stream) {
    if ((e as DecodedEntry).key) n++;
    if (n % 997 === 0) await turns();
    worst = Math.max(worst, stream.entries - n);
  }
  t.equal(n, COUNT);
  t.ok(worst <= 384, `${worst} entries decoded ahead of the loop`);
});

t.test('batch: true: arrays of at most 128 entries, at most 384 decoded ahead', async (t) => {
  const stream = readSnapshot(file, { batch: true });
  let n = 0;
  let worst = 0;
  let largest = 0;
  for await (const batch of stream) {
    const b = batch as unknown as DecodedEntry[];
    n += b.length;
    largest = Math.max(largest, b.length);
    await turns();
    worst = Math.max(worst, stream.entries - n);
  }
  t.equal(n, COUNT);
  t.ok(largest <= 128 && largest > 0, `arrays of up to ${largest} entries`);
  t.ok(worst <= 384, `${worst} entries decoded ahead of the reader`);
});
